#include "engine/model/ops/moe_ops.h"

#include "engine/model/ops/fused_ops.h"

#include <torch/version.h>

#include <atomic>
#include <limits>

#ifdef R1_WITH_KERNELS
#include "engine/model/ops/kernel_glue.h"
#include "kernels/moe_permute.h"
#include "kernels/moe_routing.h"
#endif

// at::_grouped_mm (2d × 3d with int32 group ends) came with LibTorch 2.8.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
#define R1_HAS_GROUPED_MM 1
#endif

namespace r1::model::ops {
namespace {

namespace F = torch::nn::functional;
std::atomic<bool> g_grouped{true};

MoeRoute route_aten(const torch::Tensor& logits, const torch::Tensor& bias, int64_t topk,
                    int64_t n_groups, int64_t topk_groups, double route_scale) {
  const auto N = logits.size(0), E = logits.size(1);
  auto ct = logits.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto scores = torch::sigmoid(logits.to(ct));
  torch::Tensor indices;
  {
    torch::NoGradGuard ng;
    auto biased = bias.defined() ? scores.detach() + bias.to(ct) : scores.detach();
    if (n_groups > 1) {
      auto g = biased.view({N, n_groups, E / n_groups});
      auto gscore = (E / n_groups >= 2) ? std::get<0>(g.topk(2, -1)).sum(-1)
                                        : std::get<0>(g.max(-1));
      auto keep = std::get<1>(gscore.topk(topk_groups, -1));
      auto drop = torch::ones({N, n_groups}, torch::TensorOptions().dtype(torch::kBool)
                                                 .device(logits.device()))
                      .scatter(1, keep, false);
      biased = g.masked_fill(drop.unsqueeze(-1), -std::numeric_limits<double>::infinity())
                   .flatten(1);
    }
    indices = std::get<1>(biased.topk(topk, -1));
  }
  auto w = scores.gather(1, indices);
  w = w / w.sum(-1, true) * route_scale;
  return {w, indices, scores};
}

MoePlan plan_aten(const torch::Tensor& indices, int64_t n_experts) {
  MoePlan p;
  p.n_tokens = indices.size(0);
  p.topk = indices.size(1);
  p.n_experts = n_experts;
  auto flat = indices.reshape({-1});
  // Stable: within an expert, rows keep pair order (the kernel's order too).
  p.pair_of = std::get<1>(flat.sort(/*stable=*/true, 0, false));
  p.position = torch::empty_like(p.pair_of).scatter_(
      0, p.pair_of, torch::arange(flat.numel(), p.pair_of.options()));
  p.counts = torch::zeros({n_experts}, flat.options()).scatter_add_(0, flat, torch::ones_like(flat));
  p.offsets = torch::cat({torch::zeros({1}, p.counts.options()), p.counts.cumsum(0)});
  return p;
}

#ifdef R1_WITH_KERNELS
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using namespace glue;

kernels::MoeRoutingParams routing_probe(int64_t E, int64_t topk, int64_t n_groups,
                                        int64_t topk_groups) {
  kernels::MoeRoutingParams p;  // the kernel's own limits, with stand-in pointers
  p.n_tokens = 1;
  p.n_experts = static_cast<int>(E);
  p.top_k = static_cast<int>(topk);
  p.n_groups = static_cast<int>(n_groups);
  p.topk_groups = static_cast<int>(topk_groups);
  p.logits = p.weights = reinterpret_cast<float*>(16);
  p.indices = reinterpret_cast<void*>(16);
  return p;
}

struct FusedMoeRouting : torch::autograd::Function<FusedMoeRouting> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& bias, int64_t topk, int64_t n_groups,
                               int64_t topk_groups, double route_scale) {
    auto l = logits.contiguous();
    const int64_t N = l.size(0), E = l.size(1);
    auto f32 = l.options().dtype(torch::kFloat32);
    auto scores = torch::empty({N, E}, f32);
    auto weights = torch::empty({N, topk}, f32);
    auto indices = torch::empty({N, topk}, l.options().dtype(torch::kInt64));
    torch::Tensor b = bias.defined() ? bias.to(l.device(), torch::kFloat32).contiguous() : bias;
    auto p = routing_probe(E, topk, n_groups, topk_groups);
    p.dtype = dtype_of(l);
    p.n_tokens = N;
    p.route_scale = static_cast<float>(route_scale);
    p.logits = l.data_ptr();
    p.bias = b.defined() ? b.data_ptr<float>() : nullptr;
    p.scores = scores.data_ptr<float>();
    p.weights = weights.data_ptr<float>();
    p.indices = indices.data_ptr();
    p.index_type = kernels::IndexType::i64;
    ok(kernels::moe_routing(p, stream()));
    ctx->mark_non_differentiable({indices});
    ctx->save_for_backward({scores, indices});
    ctx->saved_data["route_scale"] = route_scale;
    ctx->saved_data["bf16"] = l.scalar_type() == torch::kBFloat16;
    return {weights, indices, scores};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& scores = saved[0];
    const auto& indices = saved[1];
    const int64_t N = scores.size(0), E = scores.size(1), k = indices.size(1);
    auto f32 = scores.options();
    auto dw = grads[0].defined() ? grads[0].to(torch::kFloat32).contiguous()
                                 : torch::zeros({N, k}, f32);
    auto dextra = grads[2].defined() ? grads[2].to(torch::kFloat32).contiguous() : grads[2];
    const bool bf16 = ctx->saved_data["bf16"].toBool();
    auto dlogits = torch::empty({N, E}, f32.dtype(bf16 ? torch::kBFloat16 : torch::kFloat32));
    kernels::MoeRoutingBackwardParams p;
    p.dtype = bf16 ? kernels::DType::bf16 : kernels::DType::f32;
    p.n_tokens = N;
    p.n_experts = static_cast<int>(E);
    p.top_k = static_cast<int>(k);
    p.route_scale = static_cast<float>(ctx->saved_data["route_scale"].toDouble());
    p.scores = scores.data_ptr<float>();
    p.indices = indices.data_ptr();
    p.index_type = kernels::IndexType::i64;
    p.dweights = dw.data_ptr<float>();
    p.dscores_extra = dextra.defined() ? dextra.data_ptr<float>() : nullptr;
    p.dlogits = dlogits.data_ptr();
    ok(kernels::moe_routing_backward(p, stream()));
    return {dlogits, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

MoePlan plan_kernel(const torch::Tensor& indices, int64_t n_experts) {
  MoePlan p;
  p.kernels = true;
  p.n_tokens = indices.size(0);
  p.topk = indices.size(1);
  p.n_experts = n_experts;
  auto idx = indices.contiguous();
  auto i32 = idx.options().dtype(torch::kInt32);
  const int64_t P = p.n_tokens * p.topk;
  p.counts = torch::empty({n_experts}, i32);
  p.offsets = torch::empty({n_experts + 1}, i32);
  p.position = torch::empty({P}, i32);
  p.pair_of = torch::empty({P}, i32);
  const size_t ws = kernels::moe_permute_workspace_bytes(p.n_tokens, static_cast<int>(p.topk),
                                                         static_cast<int>(n_experts));
  auto workspace = torch::empty({static_cast<int64_t>(ws) + 16}, idx.options().dtype(torch::kUInt8));
  kernels::MoePermutePlanParams k;
  k.n_tokens = p.n_tokens;
  k.top_k = static_cast<int>(p.topk);
  k.n_experts = static_cast<int>(n_experts);
  k.indices = idx.data_ptr();
  k.index_type = index_type_of(idx);
  k.counts = p.counts.data_ptr<int32_t>();
  k.offsets = p.offsets.data_ptr<int32_t>();
  k.position = p.position.data_ptr<int32_t>();
  k.pair_of = p.pair_of.data_ptr<int32_t>();
  k.workspace = workspace.data_ptr();
  k.workspace_bytes = ws;
  ok(kernels::moe_permute_plan(k, stream()));
  return p;
}

// rows[r] = x[pair_of[r] / k] (· weights[pair_of[r]] when weights are given).
torch::Tensor gather_rows(const torch::Tensor& x, const torch::Tensor& pair_of, int64_t topk,
                          const torch::Tensor& weights) {
  const int64_t P = pair_of.numel(), D = x.size(1);
  auto rows = torch::empty({P, D}, x.options());
  kernels::MoeGatherParams g;
  g.dtype = dtype_of(x);
  g.n_rows = P;
  g.top_k = static_cast<int>(topk);
  g.dim = D;
  g.x = x.data_ptr();
  g.pair_of = pair_of.data_ptr<int32_t>();
  g.weights = weights.defined() ? weights.data_ptr<float>() : nullptr;
  g.rows = rows.data_ptr();
  ok(kernels::moe_gather(g, stream()));
  return rows;
}

// y[t] = sum_j (weights[t, j] or 1) · rows[position[t·k + j]].
torch::Tensor combine_rows(const torch::Tensor& rows, const torch::Tensor& position,
                           int64_t n_tokens, int64_t topk, const torch::Tensor& weights) {
  auto y = torch::empty({n_tokens, rows.size(1)}, rows.options());
  kernels::MoeCombineParams c;
  c.dtype = dtype_of(rows);
  c.n_tokens = n_tokens;
  c.top_k = static_cast<int>(topk);
  c.dim = rows.size(1);
  c.rows = rows.data_ptr();
  c.position = position.data_ptr<int32_t>();
  c.weights = weights.defined() ? weights.data_ptr<float>() : nullptr;
  c.y = y.data_ptr();
  ok(kernels::moe_combine(c, stream()));
  return y;
}

struct FusedMoeGather : torch::autograd::Function<FusedMoeGather> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& pair_of, const torch::Tensor& position,
                               int64_t topk) {
    auto x2 = x.contiguous();
    ctx->save_for_backward({position});
    ctx->saved_data["n_tokens"] = x2.size(0);
    ctx->saved_data["topk"] = topk;
    return gather_rows(x2, pair_of, topk, torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto position = ctx->get_saved_variables()[0];
    auto drows = grads[0].contiguous();
    auto dx = combine_rows(drows, position, ctx->saved_data["n_tokens"].toInt(),
                           ctx->saved_data["topk"].toInt(), torch::Tensor());
    return {dx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct FusedMoeCombine : torch::autograd::Function<FusedMoeCombine> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& weights, const torch::Tensor& position,
                               const torch::Tensor& pair_of) {
    auto r = rows.contiguous();
    auto w = weights.to(torch::kFloat32).contiguous();
    ctx->save_for_backward({r, w, position, pair_of});
    return combine_rows(r, position, w.size(0), w.size(1), w);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& r = saved[0];
    const auto& w = saved[1];
    const auto& position = saved[2];
    const auto& pair_of = saved[3];
    const int64_t N = w.size(0), k = w.size(1);
    auto dy = grads[0].to(r.scalar_type()).contiguous();
    auto drows = gather_rows(dy, pair_of, k, w);  // d rows[r] = w[pair] · dy[token]
    auto dw = torch::empty({N, k}, w.options());
    kernels::MoeCombineWeightGradParams p;
    p.dtype = dtype_of(r);
    p.n_tokens = N;
    p.top_k = static_cast<int>(k);
    p.dim = r.size(1);
    p.dy = dy.data_ptr();
    p.rows = r.data_ptr();
    p.position = position.data_ptr<int32_t>();
    p.dweights = dw.data_ptr<float>();
    ok(kernels::moe_combine_weight_grad(p, stream()));
    return {drows, dw, torch::Tensor(), torch::Tensor()};
  }
};
#endif

}  // namespace

const std::vector<int64_t>& MoePlan::host_counts() const {
  if (host_counts_.empty() && counts.defined()) {
    auto c = counts.to(torch::kCPU, torch::kInt64).contiguous();
    host_counts_.assign(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }
  return host_counts_;
}

MoeRoute moe_route(const torch::Tensor& logits, const torch::Tensor& bias, int64_t topk,
                   int64_t n_groups, int64_t topk_groups, double route_scale) {
#ifdef R1_WITH_KERNELS
  if (kernels_enabled() && logits.is_cuda() && kernel_dtype(logits) && logits.dim() == 2 &&
      logits.size(0) > 0 &&
      kernels::check(routing_probe(logits.size(1), topk, n_groups, topk_groups)).ok()) {
    auto out = FusedMoeRouting::apply(logits, bias, topk, n_groups, topk_groups, route_scale);
    return {out[0], out[1], out[2]};
  }
#endif
  return route_aten(logits, bias, topk, n_groups, topk_groups, route_scale);
}

bool moe_kernels_usable(const torch::Device& device, torch::ScalarType dtype, int64_t n_experts,
                        int64_t topk) {
#ifdef R1_WITH_KERNELS
  return kernels_enabled() && device.is_cuda() &&
         (dtype == torch::kFloat32 || dtype == torch::kBFloat16) && n_experts <= 4096 &&
         topk >= 1 && topk <= 8;
#else
  (void)device; (void)dtype; (void)n_experts; (void)topk;
  return false;
#endif
}

MoePlan moe_plan(const torch::Tensor& indices, int64_t n_experts, bool use_kernels) {
#ifdef R1_WITH_KERNELS
  if (use_kernels && indices.is_cuda() && indices.size(0) > 0)
    return plan_kernel(indices, n_experts);
#endif
  (void)use_kernels;
  return plan_aten(indices, n_experts);
}

torch::Tensor moe_gather(const torch::Tensor& x, const MoePlan& plan) {
#ifdef R1_WITH_KERNELS
  if (plan.kernels) return FusedMoeGather::apply(x, plan.pair_of, plan.position, plan.topk);
#endif
  return x.index_select(0, plan.pair_of.div(plan.topk, "floor"));
}

torch::Tensor moe_combine(const torch::Tensor& rows, const torch::Tensor& weights,
                          const MoePlan& plan) {
#ifdef R1_WITH_KERNELS
  if (plan.kernels) return FusedMoeCombine::apply(rows, weights, plan.position, plan.pair_of);
#endif
  auto picked = rows.index_select(0, plan.position).view({plan.n_tokens, plan.topk, rows.size(1)});
  return (picked * weights.to(rows.scalar_type()).unsqueeze(-1)).sum(1);
}

bool grouped_gemm_available(const torch::Device& device) {
#ifdef R1_HAS_GROUPED_MM
  return g_grouped && device.is_cuda();
#else
  (void)device;
  return false;
#endif
}

void set_grouped_gemm_enabled(bool on) { g_grouped = on; }

torch::Tensor moe_expert_linear(const torch::Tensor& rows, const std::vector<torch::Tensor>& weights,
                                const MoePlan& plan) {
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == plan.n_experts, "moe_expert_linear: ",
              weights.size(), " weights for ", plan.n_experts, " experts");
  const int64_t out_dim = weights.front().size(0);
#ifdef R1_HAS_GROUPED_MM
  const int64_t in_dim = weights.front().size(1);
  // TMA wants 16-byte aligned rows; sizes that are not fall back to the loop.
  const int64_t align = 16 / rows.element_size();
  if (grouped_gemm_available(rows.device()) && in_dim % align == 0 && out_dim % align == 0 &&
      rows.size(0) > 0) {
    auto w = torch::stack(weights).to(rows.scalar_type());  // [E, out, in]
    auto ends = plan.offsets.narrow(0, 1, plan.n_experts).to(torch::kInt32).contiguous();
    return at::_grouped_mm(rows.contiguous(), w.transpose(1, 2), ends);
  }
#endif
  const auto& counts = plan.host_counts();
  std::vector<torch::Tensor> parts;
  int64_t start = 0;
  for (int64_t e = 0; e < plan.n_experts; ++e) {
    const int64_t n = counts[e];
    if (n == 0) continue;
    parts.push_back(F::linear(rows.narrow(0, start, n), weights[e].to(rows.scalar_type())));
    start += n;
  }
  if (parts.empty()) return torch::empty({0, out_dim}, rows.options());
  return parts.size() == 1 ? parts.front() : torch::cat(parts, 0);
}

}  // namespace r1::model::ops
