#pragma once
// DeepSeekMoE: shared SwiGLU experts + routed SwiGLU experts with sigmoid affinities,
// (group-limited) top-k chosen on bias-adjusted scores, gate weights from the unbiased scores.
// Auxiliary-loss-free balancing: the per-expert bias is a buffer updated outside autograd.
#include "engine/config/config.h"
#include "engine/model/layers.h"
#include "engine/model/ops/moe_ops.h"

namespace r1::model {

// weights [N, k] (unbiased scores, normalized, times route_scale), indices [N, k] int64,
// scores [N, E] sigmoid affinities with grad; and the gate GEMM's output dtype, which the
// experts compute in (bf16 / fp16 under autocast).
struct Routing : ops::MoeRoute {
  torch::ScalarType compute = torch::kFloat32;
};

struct GateImpl : torch::nn::Module {
  explicit GateImpl(const ModelConfig& cfg);
  Routing forward(const torch::Tensor& x);  // x: [N, dim]
  int64_t topk, n_groups, topk_groups;
  double route_scale;
  torch::Tensor weight;  // [E, dim]
  torch::Tensor bias;    // [E] buffer: used only to choose experts
};
TORCH_MODULE(Gate);

struct MoEImpl : torch::nn::Module {
  explicit MoEImpl(const ModelConfig& cfg);
  // x: [B, T, dim] -> [B, T, dim]. In training mode accumulates per-expert counts in `load`.
  // On CUDA no step of it waits for the device (engine/model/ops/moe_ops.h).
  torch::Tensor forward(const torch::Tensor& x);

  // bias += gamma * sign(mean(load) - load); then load is cleared. Returns the load fractions
  // (CPU, float64).
  torch::Tensor update_bias(double gamma);

  int64_t n_routed, topk;
  double balance_alpha;
  Gate gate{nullptr};
  torch::nn::ModuleList experts{nullptr};
  SwiGLU shared{nullptr};  // n_shared experts fused into one SwiGLU of n_shared * moe_inter
  torch::Tensor load;         // [E] float64 counts since the last update_bias (model's device)
  torch::Tensor last_counts;  // [E] int64 counts of the last forward (model's device)
  torch::Tensor balance_loss; // scalar of the last forward (undefined when alpha == 0)
};
TORCH_MODULE(MoE);

}  // namespace r1::model
