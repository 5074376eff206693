#pragma once
// RMSNorm, optionally fused with the residual add before it, forward and backward.
//
//   forward:  h = x (+ residual, rounded to dtype: the stored residual stream)
//             rstd = 1 / sqrt(mean(h^2) + eps)              (fp32, saved for backward)
//             y = (h * rstd) * weight                        (fp32 math, stored in dtype)
//   backward: xhat = h * rstd,  g = weight * dy
//             dh = rstd * (g - xhat * mean(g * xhat)) (+ dh_extra: the gradient reaching h along
//                  the residual stream); with the fused add, dh is the gradient of x and of r.
//             dweight = sum over rows of dy * xhat            (fp32, deterministic: per-block
//                  partials in the workspace, then a fixed-order sum; no atomics)
// Rows are `dim` contiguous elements, ld_* elements apart (strided views such as
// kv.narrow(-1, 0, kv_lora_rank) work as they are). Row sizes: dim <= 1024 * (16 / sizeof(dtype))
// (8192 bf16, 4096 fp32) when dim, every ld and every pointer allow 16-byte accesses (dim a
// multiple of 8 for bf16, 4 for fp32); otherwise (one element at a time) dim <= 1024.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct RmsNormForwardParams {
  DType dtype = DType::f32;  // of x, residual, y, h (y, residual: see y_bf16)
  int64_t n_rows = 0;
  int64_t dim = 0;
  float eps = 1e-6f;
  const void* x = nullptr;  // [n_rows, dim]
  int64_t ld_x = 0;         // 0: dim (the same for every ld below)
  const void* residual = nullptr;  // [n_rows, dim] or null (no fused add)
  int64_t ld_residual = 0;
  const float* weight = nullptr;  // [dim] fp32
  void* y = nullptr;              // [n_rows, dim]; may equal x (same ld)
  int64_t ld_y = 0;
  void* h = nullptr;  // [n_rows, dim] x + residual; required with residual, may equal x or it
  int64_t ld_h = 0;
  float* rstd = nullptr;  // [n_rows] fp32, or null
  // y and residual in bf16 while x and h are f32 (dtype f32 only): autocast's norm of the fp32
  // residual stream, with the bf16 branch output added in and y cast in the same pass.
  bool y_bf16 = false;
};

struct RmsNormBackwardParams {
  DType dtype = DType::f32;  // of dy, h, dh_extra, dx (dy: see dy_bf16)
  int64_t n_rows = 0;
  int64_t dim = 0;
  const void* dy = nullptr;  // [n_rows, dim]
  int64_t ld_dy = 0;
  const void* h = nullptr;  // [n_rows, dim] the forward's input (x, or h of the fused add)
  int64_t ld_h = 0;
  const float* weight = nullptr;  // [dim]
  const float* rstd = nullptr;    // [n_rows] from the forward
  const void* dh_extra = nullptr;  // [n_rows, dim] or null
  int64_t ld_dh_extra = 0;
  void* dx = nullptr;  // [n_rows, dim]; may equal dy or dh_extra (same ld)
  int64_t ld_dx = 0;
  float* dweight = nullptr;         // [dim] fp32, or null
  bool accumulate_dweight = false;  // dweight += instead of =
  void* workspace = nullptr;        // rmsnorm_backward_workspace_bytes(), 16-byte aligned
  size_t workspace_bytes = 0;
  bool dy_bf16 = false;  // dy in bf16 while h, dh_extra and dx are f32 (dtype f32 only)
};

// Bytes of device workspace the backward needs for dweight (0 when dweight is not wanted).
size_t rmsnorm_backward_workspace_bytes(int64_t n_rows, int64_t dim);

Status check(const RmsNormForwardParams& p);
Status check(const RmsNormBackwardParams& p);

Status rmsnorm_forward(const RmsNormForwardParams& p, cudaStream_t stream);
Status rmsnorm_backward(const RmsNormBackwardParams& p, cudaStream_t stream);

// CPU references in float64 (kernels/rmsnorm_ref.cpp); host pointers, dense [n_rows * dim]
// results. The forward's h is rounded to dtype as the kernel stores it, and y, rstd are computed
// from that rounded h. The backward reads p.rstd (pass the forward's) and p.dh_extra.
struct RmsNormForwardRef {
  std::vector<double> y, h, rstd;
};
RmsNormForwardRef rmsnorm_forward_ref(const RmsNormForwardParams& p);
struct RmsNormBackwardRef {
  std::vector<double> dx, dweight;
};
RmsNormBackwardRef rmsnorm_backward_ref(const RmsNormBackwardParams& p);

}  // namespace r1::kernels
