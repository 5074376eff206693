namespace r1 { int events_placeholder() { return 0; } }
