// kernels/swiglu.cu compiled for the CPU emulation (see emu.h).
#include "tests/kernel_emu/emu.h"

#include "kernels/swiglu.cu"
