#include "engine/model/layers.h"

#include "engine/compat/torch_compat.h"
#include "engine/model/ops/fused_ops.h"

namespace r1::model {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

namespace {
// Under autocast the fp32 residual stream's norm feeds two GEMMs (wq_a and wkv_a; w1 and w3):
// its output comes in the autocast dtype, so both read and keep one bf16 copy (the kernel
// writes it in the same pass) instead of casting it each.
std::optional<torch::ScalarType> norm_out_dtype(const torch::Tensor& x) {
  if (x.scalar_type() == torch::kFloat32) {
    if (auto dt = compat::autocast_dtype(x.device()); dt && *dt != torch::kFloat32) return dt;
  }
  return std::nullopt;
}
}  // namespace

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return ops::rms_norm(x, weight, eps, norm_out_dtype(x));  // fused kernel on CUDA, ATen elsewhere
}

std::pair<torch::Tensor, torch::Tensor> RMSNormImpl::add_forward(const torch::Tensor& x,
                                                                 const torch::Tensor& r) {
  return ops::add_rms_norm(x, r, weight, eps, norm_out_dtype(x));
}

torch::nn::Linear linear(int64_t in, int64_t out) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
}

SwiGLUImpl::SwiGLUImpl(int64_t dim, int64_t inter) {
  w1 = register_module("w1", linear(dim, inter));
  w2 = register_module("w2", linear(inter, dim));
  w3 = register_module("w3", linear(dim, inter));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  return ops::swiglu_down(w1(x), w3(x), w2->weight);  // fused gate on CUDA, ATen elsewhere
}

Rope make_rope(int64_t seq_len, int64_t rope_dim, double theta, const torch::Device& device,
               torch::ScalarType dtype) {
  auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto i = torch::arange(0, rope_dim, 2, opts);
  auto inv_freq = torch::pow(theta, -i / static_cast<double>(rope_dim));
  auto pos = torch::arange(seq_len, opts);
  auto ang = torch::outer(pos, inv_freq);
  return {ang.cos().to(dtype), ang.sin().to(dtype)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const Rope& rope) {
  return ops::rope(x, rope.cos, rope.sin);  // fused kernel on CUDA, ATen elsewhere
}

}  // namespace r1::model
