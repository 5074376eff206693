#pragma once
// A CPU emulation of the CUDA execution model, enough to run kernels/ where there is no GPU.
// Each CUDA thread of a block is a fiber (ucontext) on the calling OS thread; __syncthreads and
// warp shuffles are barriers between fibers, run in a shuffled order between barriers; blocks
// run one after another. "Device" memory is host memory (emu_runtime.cpp fakes the runtime
// API), so AddressSanitizer sees out-of-bounds accesses of kernels. It checks indices, bounds,
// barrier use (a shuffle while lanes of the warp have exited, a barrier some threads skip) and
// launch configurations - not timing, not the memory model, not the PTX.
//
// Include this first, then a kernels/*.cu file (see emu_*.cpp).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>

#define R1K_EMULATE 1

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __launch_bounds__
#undef __grid_constant__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __grid_constant__
#define __shared__ static  // one block at a time: shared by the block's fibers

namespace r1emu {

extern uint3 thread_idx, block_idx;
extern dim3 block_dim, grid_dim;

// Runs fn once per thread of every block; records a launch error for cudaGetLastError().
void launch(const std::function<void()>& fn, dim3 grid, dim3 block, size_t dynamic_smem);
void* dynamic_smem();
void syncthreads();
void syncwarp(unsigned mask);
// Lane `src` of this warp's `bytes` at `mine` into `out`; every lane of the warp must call it.
void warp_exchange(unsigned mask, const void* mine, void* out, int src, size_t bytes);
int lane();

}  // namespace r1emu

#define threadIdx (::r1emu::thread_idx)
#define blockIdx (::r1emu::block_idx)
#define blockDim (::r1emu::block_dim)
#define gridDim (::r1emu::grid_dim)

#define R1K_LAUNCH(kernel, grid, block, smem, stream, ...) \
  ::r1emu::launch([=] { kernel(__VA_ARGS__); }, dim3(grid), dim3(block), smem)
#define R1K_DYNAMIC_SMEM(T, name) T* name = static_cast<T*>(::r1emu::dynamic_smem())

inline void __syncthreads() { r1emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { r1emu::syncwarp(mask); }

template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask) {
  T out;
  r1emu::warp_exchange(mask, &v, &out, r1emu::lane() ^ lane_mask, sizeof(T));
  return out;
}

template <typename T>
T __shfl_sync(unsigned mask, T v, int src_lane) {
  T out;
  r1emu::warp_exchange(mask, &v, &out, src_lane & 31, sizeof(T));
  return out;
}

template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta) {
  T out;
  const int src = r1emu::lane() - static_cast<int>(delta);
  r1emu::warp_exchange(mask, &v, &out, src < 0 ? r1emu::lane() : src, sizeof(T));
  return out;
}

template <typename T>
T __ldg(const T* p) { return *p; }
template <typename T>
T __ldcs(const T* p) { return *p; }
template <typename T>
void __stcs(T* p, T v) { *p = v; }

inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }

template <typename T>
inline T min(T a, T b) { return b < a ? b : a; }
template <typename T>
inline T max(T a, T b) { return a < b ? b : a; }
