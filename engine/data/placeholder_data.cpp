namespace r1 { int data_placeholder() { return 0; } }
