#pragma once
// SwiGLU's gate, the elementwise middle of every FFN and expert (w2 (silu(w1 x) * w3 x)):
//   forward:  h  = silu(a) · b = a σ(a) b
//   backward: da = dh · b · σ(a) (1 + a (1 − σ(a))),   db = dh · a σ(a)
// over [n_rows, dim], fp32 math, one pass each way. Only a and b are kept for the backward (σ is
// recomputed), where ATen's silu + mul keep a, silu(a) and b. Rows are ld_* elements apart
// (0: dim), so a and b may be the two halves of one [n_rows, 2·dim] GEMM output.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct SwigluParams {
  DType dtype = DType::f32;  // of a, b and h
  int64_t n_rows = 0, dim = 0;
  const void* a = nullptr;
  int64_t ld_a = 0;
  const void* b = nullptr;
  int64_t ld_b = 0;
  void* h = nullptr;  // may alias a or b (same ld)
  int64_t ld_h = 0;
};

struct SwigluBackwardParams {
  DType dtype = DType::f32;  // of every tensor
  int64_t n_rows = 0, dim = 0;
  const void* dh = nullptr;
  int64_t ld_dh = 0;
  const void* a = nullptr;
  int64_t ld_a = 0;
  const void* b = nullptr;
  int64_t ld_b = 0;
  void* da = nullptr;  // may alias a or dh
  int64_t ld_da = 0;
  void* db = nullptr;  // may alias b
  int64_t ld_db = 0;
};

Status check(const SwigluParams& p);
Status check(const SwigluBackwardParams& p);

// Device pointers; run on `stream`; no host sync, no allocation (CUDA-graph capturable).
Status swiglu_forward(const SwigluParams& p, cudaStream_t stream);
Status swiglu_backward(const SwigluBackwardParams& p, cudaStream_t stream);

// CPU references in float64 (kernels/swiglu_ref.cpp): host pointers, dense results.
std::vector<double> swiglu_forward_ref(const SwigluParams& p);  // [n_rows * dim]
struct SwigluBackwardRef {
  std::vector<double> da, db;  // [n_rows * dim] each
};
SwigluBackwardRef swiglu_backward_ref(const SwigluBackwardParams& p);

}  // namespace r1::kernels
