#include "engine/model/mla.h"

#include "engine/compat/torch_compat.h"
#include "engine/model/ops/fused_ops.h"

#include <cmath>

namespace r1::model {

MLAImpl::MLAImpl(const ModelConfig& c)
    : n_heads(c.n_heads), q_lora_rank(c.q_lora_rank), kv_lora_rank(c.kv_lora_rank),
      dn(c.qk_nope_head_dim), dr(c.qk_rope_head_dim), dv(c.v_head_dim) {
  softmax_scale = 1.0 / std::sqrt(static_cast<double>(dn + dr));
  const int64_t qdim = n_heads * (dn + dr);
  if (q_lora_rank == 0) {
    wq = register_module("wq", linear(c.dim, qdim));
  } else {
    wq_a = register_module("wq_a", linear(c.dim, q_lora_rank));
    q_norm = register_module("q_norm", RMSNorm(q_lora_rank, c.norm_eps));
    wq_b = register_module("wq_b", linear(q_lora_rank, qdim));
  }
  wkv_a = register_module("wkv_a", linear(c.dim, kv_lora_rank + dr));
  kv_norm = register_module("kv_norm", RMSNorm(kv_lora_rank, c.norm_eps));
  wkv_b = register_module("wkv_b", linear(kv_lora_rank, n_heads * (dn + dv)));
  wo = register_module("wo", linear(n_heads * dv, c.dim));
}

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale, bool fused) {
  if (fused) {
    if (auto out = compat::fused_causal_attention(q, k, v, scale)) return *out;
  }
  const auto T = q.size(2), S = k.size(2);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  auto mask = torch::ones({T, S}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                  .triu(S - T + 1);
  scores = scores.masked_fill(mask, -std::numeric_limits<double>::infinity());
  auto ct = q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto p = torch::softmax(scores.to(ct), -1).to(v.scalar_type());
  return torch::matmul(p, v);
}

torch::Tensor MLAImpl::forward(const torch::Tensor& x, const Rope& rope) {
  const auto B = x.size(0), T = x.size(1);
  auto q = q_lora_rank == 0 ? wq(x) : wq_b(q_norm(wq_a(x)));
  // q with its RoPE part rotated, as one new tensor (no split + cat).
  auto qh = ops::rope_tail(q.view({B, T, n_heads, dn + dr}), rope.cos, rope.sin, dr)
                .transpose(1, 2);

  // split_with_sizes, not two narrows: its backward is one cat of the parts' gradients, where
  // each narrow's backward fills a zero tensor of the whole, copies its part in, and the two
  // are then added (five passes instead of one; measured 1.4 ms of a 25 ms dense step).
  auto kvs = wkv_a(x).split_with_sizes({kv_lora_rank, dr}, -1);
  const auto& kv_c = kvs[0];
  auto k_pe = apply_rope(kvs[1].unsqueeze(2), rope);  // [B,T,1,dr]
  auto kvhs = wkv_b(kv_norm(kv_c)).view({B, T, n_heads, dn + dv}).split_with_sizes({dn, dv}, -1);
  const auto& k_nope = kvhs[0];
  const auto& v = kvhs[1];

  auto kh = torch::cat({k_nope, k_pe.to(k_nope.scalar_type()).expand({B, T, n_heads, dr})}, -1)
                .transpose(1, 2);
  auto vh = v.transpose(1, 2);
  auto o = causal_attention(qh, kh, vh, softmax_scale, use_fused);  // [B,H,T,dv]
  return wo(o.transpose(1, 2).reshape({B, T, n_heads * dv}));
}

}  // namespace r1::model
