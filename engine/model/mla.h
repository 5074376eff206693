#pragma once
// Multi-head Latent Attention (DeepSeek-V2/V3): low-rank normalized query, joint key/value
// compression to a normalized latent, and a decoupled RoPE key shared by all heads.
#include "engine/config/config.h"
#include "engine/model/layers.h"

namespace r1::model {

struct MLAImpl : torch::nn::Module {
  explicit MLAImpl(const ModelConfig& cfg);
  // x: [B, T, dim]; causal.
  torch::Tensor forward(const torch::Tensor& x, const Rope& rope);

  int64_t n_heads, q_lora_rank, kv_lora_rank, dn, dr, dv;
  double softmax_scale;
  torch::nn::Linear wq{nullptr}, wq_a{nullptr}, wq_b{nullptr};
  RMSNorm q_norm{nullptr}, kv_norm{nullptr};
  torch::nn::Linear wkv_a{nullptr}, wkv_b{nullptr}, wo{nullptr};
  bool use_fused = true;  // tests turn the fused path off to compare against the fallback
};
TORCH_MODULE(MLA);

// softmax(q kᵀ · scale + causal mask) v, fused (SDPA) when LibTorch has it and `fused`.
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale, bool fused);

}  // namespace r1::model
