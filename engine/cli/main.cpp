#include <cstdio>
int main() { std::puts("r1-worker: under construction"); return 0; }
