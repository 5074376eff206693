#pragma once
// Multi-tensor fused AdamW on fp32 master weights (torch.optim.AdamW semantics, decoupled
// weight decay), many tensors per launch through a chunk table passed as the kernel's parameter
// (no device-side table to upload: capturable in a CUDA graph as it is).
//
//   g     = grad * grad_scale * (*grad_scale_dev if set)   (unscaling / clipping folded in)
//   param = param * (1 - lr * weight_decay)
//   m     = beta1 * m + (1 - beta1) * g
//   v     = beta2 * v + (1 - beta2) * g^2
//   param = param - (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
//   param_bf16 = bf16(param)                                (when set)
// When found_inf_dev is set and *found_inf_dev != 0 (a loss scaler's overflow flag) nothing is
// written. Each launch covers up to 96 tensors and 1536 chunks of 65536 elements; longer lists
// take several launches on the same stream. All tensors of one call share the grad dtype.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct AdamWTensor {
  float* param = nullptr;       // [numel] fp32 master weights, updated in place
  const void* grad = nullptr;   // [numel] fp32 or bf16 (AdamWOptions::grad_dtype)
  float* exp_avg = nullptr;     // [numel] fp32
  float* exp_avg_sq = nullptr;  // [numel] fp32
  void* param_bf16 = nullptr;   // [numel] bf16 copy of the updated param, or null
  int64_t numel = 0;
  float lr = 0.f;  // per tensor: layered learning rates in one launch
  float weight_decay = 0.f;
};

struct AdamWOptions {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  int64_t step = 1;  // the step being taken, counted from 1 (bias corrections)
  DType grad_dtype = DType::f32;
  float grad_scale = 1.f;
  const float* grad_scale_dev = nullptr;  // device scalar multiplied into grad_scale, or null
  const float* found_inf_dev = nullptr;   // device flag: skip the whole update when != 0
};

Status check(const AdamWTensor* tensors, int count, const AdamWOptions& o);

// Device pointers; runs on `stream`.
Status adamw(const AdamWTensor* tensors, int count, const AdamWOptions& o, cudaStream_t stream);

// CPU reference in float64 for one tensor (kernels/adamw_ref.cpp): host pointers, outputs in
// double; the device-only options (grad_scale_dev, found_inf_dev) must be null.
struct AdamWRef {
  std::vector<double> param, exp_avg, exp_avg_sq;
};
AdamWRef adamw_ref(const AdamWTensor& t, const AdamWOptions& o);

}  // namespace r1::kernels
