#pragma once
// Device-side helpers shared by the kernel families: element conversion, 16-byte packs,
// warp / group reductions. Included by kernels/*.cu only.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

// Kernel launch and dynamic shared memory go through these two macros so that
// tests/kernel_emu (a CPU emulation of the execution model, R1K_EMULATE) can run the same source.
// `kernel` must be one identifier (alias a template instantiation first).
#ifndef R1K_EMULATE
#define R1K_LAUNCH(kernel, grid, block, smem, stream, ...) \
  kernel<<<grid, block, smem, stream>>>(__VA_ARGS__)
#define R1K_DYNAMIC_SMEM(T, name) extern __shared__ T name[]
#endif

namespace r1::kernels::dev {

using bf16 = __nv_bfloat16;

template <typename T>
__device__ __forceinline__ float to_float(T x);
template <>
__device__ __forceinline__ float to_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ float to_float<bf16>(bf16 x) { return __bfloat162float(x); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float x) { return __float2bfloat16_rn(x); }

// Rounds x to T's precision and back (what storing to T and reloading would give).
template <typename T>
__device__ __forceinline__ float round_to(float x) { return to_float<T>(from_float<T>(x)); }

// N elements of T moved as one aligned access of N * sizeof(T) bytes (at most 16), or as
// several 16-byte accesses when larger (e.g. 8 floats).
template <typename T, int N>
struct alignas(N * sizeof(T) < 16 ? N * sizeof(T) : 16) Pack {
  T v[N];
};

template <int Bytes>
struct RawWord;
template <> struct RawWord<2> { using type = unsigned short; };
template <> struct RawWord<4> { using type = unsigned int; };
template <> struct RawWord<8> { using type = uint2; };
template <> struct RawWord<16> { using type = uint4; };

template <typename T, int N>
__host__ __device__ constexpr int pack_word_bytes() {
  return N * sizeof(T) < 16 ? N * sizeof(T) : 16;
}

// Plain load / store: p must be aligned to min(16, N * sizeof(T)) bytes.
template <typename T, int N>
__device__ __forceinline__ Pack<T, N> load_pack(const T* p) {
  constexpr int kW = pack_word_bytes<T, N>();
  using W = typename RawWord<kW>::type;
  constexpr int kWords = N * sizeof(T) / kW;
  Pack<T, N> out;
  const W* src = reinterpret_cast<const W*>(p);
  W* dst = reinterpret_cast<W*>(&out);
#pragma unroll
  for (int i = 0; i < kWords; ++i) dst[i] = src[i];
  return out;
}

template <typename T, int N>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, N>& in) {
  constexpr int kW = pack_word_bytes<T, N>();
  using W = typename RawWord<kW>::type;
  constexpr int kWords = N * sizeof(T) / kW;
  const W* src = reinterpret_cast<const W*>(&in);
  W* dst = reinterpret_cast<W*>(p);
#pragma unroll
  for (int i = 0; i < kWords; ++i) dst[i] = src[i];
}

// Through the read-only data path (ld.global.nc): for small tables read by every row, e.g. a
// norm weight. Also a separate load the compiler will not merge with a plain one, so a value
// needed twice is reloaded from L1 rather than held in registers across a long stretch.
template <typename T, int N>
__device__ __forceinline__ Pack<T, N> load_pack_ro(const T* p) {
  constexpr int kW = pack_word_bytes<T, N>();
  static_assert(kW >= 4, "4-byte words at least");
  using W = typename RawWord<kW>::type;
  constexpr int kWords = N * sizeof(T) / kW;
  Pack<T, N> out;
  const W* src = reinterpret_cast<const W*>(p);
  W* dst = reinterpret_cast<W*>(&out);
#pragma unroll
  for (int i = 0; i < kWords; ++i) dst[i] = __ldg(src + i);
  return out;
}

// Streaming variants (evict-first): for data read or written for the last time, so that it
// does not push out of L2 what will be read again soon. 16-byte packs only.
template <typename T, int N>
__device__ __forceinline__ Pack<T, N> load_pack_last(const T* p) {
  static_assert(N * sizeof(T) == 16, "16-byte packs only");
  uint4 w = __ldcs(reinterpret_cast<const uint4*>(p));
  Pack<T, N> out;
  *reinterpret_cast<uint4*>(&out) = w;
  return out;
}
template <typename T, int N>
__device__ __forceinline__ void store_pack_last(T* p, const Pack<T, N>& in) {
  static_assert(N * sizeof(T) == 16, "16-byte packs only");
  __stcs(reinterpret_cast<uint4*>(p), *reinterpret_cast<const uint4*>(&in));
}

// Whether p is aligned to `bytes` (a power of two).
__host__ __device__ __forceinline__ bool aligned(const void* p, uintptr_t bytes) {
  return (reinterpret_cast<uintptr_t>(p) & (bytes - 1)) == 0;
}

// 2^x on the special-function unit (ex2.approx.ftz.f32: about 2 ulp; results below 2^-126
// flush to zero). One instruction where exp2f() costs several.
__device__ __forceinline__ float fast_exp2(float x) {
#ifdef R1K_EMULATE
  return exp2f(x);
#else
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#endif
}

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Butterfly sums: every lane ends with the same bits (each step adds the same two values).
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}
__device__ __forceinline__ int warp_sum(int x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// Sum over the G consecutive threads of a group (G a multiple of 32 dividing blockDim.x).
// Every thread of the block must call it (it synchronizes the block when G > 32); smem holds
// at least blockDim.x / 32 floats. Every thread of a group gets the same value.
template <int G>
__device__ __forceinline__ float group_sum(float x, float* smem) {
  static_assert(G % 32 == 0 && G <= 1024, "G: a multiple of 32, at most 1024");
  x = warp_sum(x);
  if constexpr (G == 32) {
    return x;
  } else {
    constexpr int kWarps = G / 32;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();  // smem may still be read by a previous call
    if (lane == 0) smem[warp] = x;
    __syncthreads();
    float y = lane < kWarps ? smem[warp / kWarps * kWarps + lane] : 0.f;
    return warp_sum(y);
  }
}

}  // namespace r1::kernels::dev
