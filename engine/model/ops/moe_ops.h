#pragma once
// The routed experts' data path, step by step, each with a kernels/ path (CUDA, f32/bf16, switch
// on) and an ATen path (CPU, CI, fp16, float64 gradchecks) that compute the same function:
//   route   logits [N, E] -> weights [N, k] (fp32), indices [N, k] (int64), scores [N, E] (fp32)
//   plan    indices -> counts, offsets, and the (token, slot) pair <-> expert-sorted row maps
//   gather  x [N, D] -> rows [N·k, D], each expert's rows contiguous
//   experts rows -> rows through one weight per expert: one grouped GEMM (at::_grouped_mm,
//           LibTorch >= 2.8 on CUDA: no host sync, one launch for all experts) or a loop over
//           the experts that reads the counts on the host
//   combine rows [N·k, D], weights -> y [N, D] = sum over slots of weight × row
// Nothing on the kernels path waits for the device.
#include <torch/torch.h>

#include <vector>

namespace r1::model::ops {

struct MoeRoute {
  torch::Tensor weights;  // [N, k] fp32 (fp64 for fp64 logits), s[idx] / sum * route_scale
  torch::Tensor indices;  // [N, k] int64, by decreasing biased score
  torch::Tensor scores;   // [N, E] sigmoid(logits) in fp32 (fp64), with grad
};

// DeepSeekMoE routing (see kernels/moe_routing.h): top-k on sigmoid(logits) + bias, limited to
// the topk_groups best of n_groups groups when n_groups > 1; weights from the unbiased scores.
MoeRoute moe_route(const torch::Tensor& logits, const torch::Tensor& bias, int64_t topk,
                   int64_t n_groups, int64_t topk_groups, double route_scale);

struct MoePlan {
  int64_t n_tokens = 0, topk = 0, n_experts = 0;
  bool kernels = false;   // built by the kernel (int32 maps) or by ATen (int64 maps)
  torch::Tensor counts;   // [E] rows per expert (int32 or int64), on the device
  torch::Tensor offsets;  // [E + 1] exclusive scan of counts
  torch::Tensor position; // [N·k] pair (token·k + slot) -> row
  torch::Tensor pair_of;  // [N·k] row -> pair
  // counts copied to the host on first use (one device sync): the per-expert loop needs them.
  const std::vector<int64_t>& host_counts() const;

 private:
  mutable std::vector<int64_t> host_counts_;
};

// use_kernels: whether the gather/combine that follow take the kernel path too (see
// moe_kernels_usable); decided once per forward so that the maps and the ops agree.
MoePlan moe_plan(const torch::Tensor& indices, int64_t n_experts, bool use_kernels);

// Whether the kernel path applies to activations of `dtype` on `device` for this routing shape.
bool moe_kernels_usable(const torch::Device& device, torch::ScalarType dtype, int64_t n_experts,
                        int64_t topk);

torch::Tensor moe_gather(const torch::Tensor& x, const MoePlan& plan);  // [N·k, D], x's dtype
// y[t] = sum_j weights[t, j] · rows[position[t·k + j]], in rows' dtype (fp32 accumulation on
// the kernel path).
torch::Tensor moe_combine(const torch::Tensor& rows, const torch::Tensor& weights,
                          const MoePlan& plan);

// rows [N·k, in] (expert-sorted) times each expert's weight [out, in], transposed:
// [N·k, out] in rows' dtype. weights holds one tensor per expert (the modules' own parameters;
// the grouped path stacks and casts them, so every expert receives a gradient, zero when idle).
torch::Tensor moe_expert_linear(const torch::Tensor& rows, const std::vector<torch::Tensor>& weights,
                                const MoePlan& plan);

// Whether moe_expert_linear runs as one grouped GEMM for rows on this device (else the loop).
bool grouped_gemm_available(const torch::Device& device);
void set_grouped_gemm_enabled(bool on);  // process-wide; tests compare the grouped GEMM with the loop

}  // namespace r1::model::ops
