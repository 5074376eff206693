namespace r1 { int config_placeholder() { return 0; } }
