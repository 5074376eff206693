#pragma once
// What every kernel family shares: the status its launchers return, element types, and bf16 bit
// conversions. Plain C++17 without CUDA headers, so that the CPU references (r1_kernels_ref)
// build on machines without a CUDA toolkit.
#include <cstdint>
#include <cstring>
#include <string>

// The CUDA runtime's stream handle, declared exactly as <driver_types.h> does.
struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;

namespace r1::kernels {

// code is the cudaError_t value (0 = cudaSuccess; 1 = cudaErrorInvalidValue for a rejected
// argument); message names the launcher and the reason, e.g.
// "r1k::rmsnorm_forward: D = 0 (must be >= 1)" or
// "r1k::cross_entropy: cudaErrorInvalidConfiguration (invalid configuration argument) from
//  cudaGetLastError() at kernels/cross_entropy.cu:312".
struct Status {
  int code = 0;
  std::string message;
  bool ok() const { return code == 0; }
};

inline Status invalid_argument(const char* where, const std::string& what) {
  return Status{1, std::string("r1k::") + where + ": " + what};
}

enum class DType : uint8_t { f32, bf16 };
enum class IndexType : uint8_t { i32, i64 };

inline const char* name(DType t) { return t == DType::f32 ? "f32" : "bf16"; }
inline int size_of(DType t) { return t == DType::f32 ? 4 : 2; }

// bfloat16 as raw bits: the upper half of an IEEE float. Rounding to nearest even, NaN kept NaN
// (as __float2bfloat16_rn does).
inline float bf16_to_float(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

}  // namespace r1::kernels
