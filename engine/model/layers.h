#pragma once
// Building blocks shared by attention, experts and the model: RMSNorm, SwiGLU, RoPE.
#include <torch/torch.h>

namespace r1::model {

struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  // (x + r, forward(x + r)) with the add in the norm's pass (ops::add_rms_norm).
  std::pair<torch::Tensor, torch::Tensor> add_forward(const torch::Tensor& x,
                                                      const torch::Tensor& r);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// w2(silu(w1 x) * w3 x): the dense FFN and every expert.
struct SwiGLUImpl : torch::nn::Module {
  SwiGLUImpl(int64_t dim, int64_t inter);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear w1{nullptr}, w2{nullptr}, w3{nullptr};
};
TORCH_MODULE(SwiGLU);

struct Rope {
  torch::Tensor cos, sin;  // [T, rope_dim/2], float32
};
// Tables in float32, or float64 for double-precision models (gradient checks).
Rope make_rope(int64_t seq_len, int64_t rope_dim, double theta, const torch::Device& device,
               torch::ScalarType dtype = torch::kFloat32);
// x: [B, T, H, rope_dim], interleaved pairs rotated by position.
torch::Tensor apply_rope(const torch::Tensor& x, const Rope& rope);

torch::nn::Linear linear(int64_t in, int64_t out);

}  // namespace r1::model
