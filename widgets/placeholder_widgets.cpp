namespace r1 { int widgets_placeholder() { return 0; } }
