#pragma once
// DeepSeekMoE routing, as engine/model/moe.cpp GateImpl::forward computes it, from the gate's
// logits (the [N, E] GEMM x W^T stays a GEMM):
//   s      = sigmoid(logits)                         (fp32; what the weights and balance use)
//   b      = s + bias                                (bias: the aux-loss-free balancing buffer)
//   groups (n_groups > 1): E / n_groups consecutive experts each, scored by the sum of their two
//          largest b (the largest b when a group has one expert); experts outside the
//          topk_groups best groups are out
//   idx    = the top_k experts by b, in decreasing b (ties: the lower index first)
//   w      = s[idx] / sum(s[idx]) * route_scale
// Backward (the selection is constant): with S = sum(s[idx]),
//   ds[m]      = route_scale / S * (dw[m] - sum_j dw[j] s[idx_j] / S)   for m selected, else 0
//   dlogits    = (ds + ds_extra) * s * (1 - s)      (ds_extra: e.g. the balance loss' gradient)
// One warp per token; E <= 256, top_k <= 8, n_groups <= 32.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct MoeRoutingParams {
  DType dtype = DType::f32;  // of logits
  int64_t n_tokens = 0;
  int n_experts = 0;
  int top_k = 0;
  int n_groups = 1;     // 1: no group limit
  int topk_groups = 1;  // groups kept when n_groups > 1
  float route_scale = 1.f;
  const void* logits = nullptr;  // [n_tokens, n_experts], rows ld_logits apart (0: dense)
  int64_t ld_logits = 0;
  const float* bias = nullptr;  // [n_experts] or null
  float* scores = nullptr;      // [n_tokens, n_experts] fp32 sigmoid, or null
  float* weights = nullptr;     // [n_tokens, top_k] fp32
  void* indices = nullptr;      // [n_tokens, top_k] int32 / int64
  IndexType index_type = IndexType::i64;
};

struct MoeRoutingBackwardParams {
  DType dtype = DType::f32;  // of dlogits
  int64_t n_tokens = 0;
  int n_experts = 0;
  int top_k = 0;
  float route_scale = 1.f;
  const float* scores = nullptr;    // [n_tokens, n_experts] from the forward
  const void* indices = nullptr;    // [n_tokens, top_k] from the forward
  IndexType index_type = IndexType::i64;
  const float* dweights = nullptr;  // [n_tokens, top_k]
  const float* dscores_extra = nullptr;  // [n_tokens, n_experts] or null
  void* dlogits = nullptr;  // [n_tokens, n_experts], rows ld_dlogits apart (0: dense)
  int64_t ld_dlogits = 0;
};

Status check(const MoeRoutingParams& p);
Status check(const MoeRoutingBackwardParams& p);

Status moe_routing(const MoeRoutingParams& p, cudaStream_t stream);
Status moe_routing_backward(const MoeRoutingBackwardParams& p, cudaStream_t stream);

// CPU references in float64 (kernels/moe_routing_ref.cpp); host pointers.
struct MoeRoutingRef {
  std::vector<double> scores, weights;  // [N * E], [N * k]
  std::vector<int64_t> indices;         // [N * k]
};
MoeRoutingRef moe_routing_ref(const MoeRoutingParams& p);
std::vector<double> moe_routing_backward_ref(const MoeRoutingBackwardParams& p);  // [N * E]

}  // namespace r1::kernels
