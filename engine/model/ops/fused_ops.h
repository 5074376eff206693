#pragma once
// The model's fused operations: autograd functions that call kernels/ on the current CUDA
// stream when this build links them (CUDA LibTorch + nvcc), the tensors are on CUDA in a dtype
// the kernels take and the switch is on (config train.kernels); ATen everywhere else (CPU, CI,
// fp16, float64 gradchecks). Both paths compute the same function.
#include <torch/torch.h>

#include <optional>
#include <utility>

namespace r1::model::ops {

bool kernels_built();
void set_kernels_enabled(bool on);  // process-wide
bool kernels_enabled();

// x * rsqrt(mean(x², -1) + eps) * weight, in fp32 math, returned in out_dtype (default: x's).
// fp32 x into bf16 is one pass on the kernel path (autocast's norm of the residual stream).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps,
                       std::optional<torch::ScalarType> out_dtype = std::nullopt);

// h = x + r and y = rms_norm(h) (in out_dtype), as a pair: the residual add before a norm in one
// pass. Under autocast x is the fp32 residual stream and r the bf16 branch output.
std::pair<torch::Tensor, torch::Tensor> add_rms_norm(
    const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& weight, double eps,
    std::optional<torch::ScalarType> out_dtype = std::nullopt);

// Mean over the rows of softmax cross-entropy with label smoothing. logits [N, V], targets [N]
// int64. Returns a float32 scalar (float64 for float64 logits).
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                            double smoothing);

// silu(a) * b, SwiGLU's gate (a, b: the two up projections, same shape and dtype). The kernel
// keeps only a and b for the backward (ATen keeps silu(a) too).
torch::Tensor swiglu(const torch::Tensor& a, const torch::Tensor& b);

// The FFN's down projection over the gate, linear(swiglu(a, b), w) with w [out, inter]. The
// kernel path keeps a, b and w and makes the gate again in the backward, where linear would keep
// the gate's [N, inter] output.
torch::Tensor swiglu_down(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& w);

// Rotary embedding of interleaved pairs: x [B, T, H, d] (any strides), cos / sin [>= T, d / 2]
// (fp32, or fp64 for fp64 x); fp32 math (fp64 for fp64), returned dense in x's dtype.
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// x [B, T, H, d] as a new dense tensor whose last `rot` elements per head are rotated as rope()
// does (cos / sin [>= T, rot / 2]): MLA's q with its RoPE part, ready for attention, without a
// split and a cat.
torch::Tensor rope_tail(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        int64_t rot);

}  // namespace r1::model::ops
