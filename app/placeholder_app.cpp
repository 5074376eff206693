namespace r1 { int app_placeholder() { return 0; } }
