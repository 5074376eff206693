#include "engine/model/moe.h"

#include "engine/model/ops/fused_ops.h"
#include "engine/model/ops/moe_ops.h"

namespace r1::model {

GateImpl::GateImpl(const ModelConfig& c)
    : topk(c.n_activated_experts), n_groups(c.n_expert_groups),
      topk_groups(c.n_limited_groups), route_scale(c.route_scale) {
  weight = register_parameter("weight", torch::empty({c.n_routed_experts, c.dim}));
  torch::nn::init::normal_(weight, 0.0, c.init_std);
  bias = register_buffer("bias", torch::zeros({c.n_routed_experts}, torch::kFloat32));
}

Routing GateImpl::forward(const torch::Tensor& x) {
  auto logits = torch::nn::functional::linear(x, weight);  // under autocast: bf16 / fp16
  return {ops::moe_route(logits, bias, topk, n_groups, topk_groups, route_scale),
          logits.scalar_type()};
}

MoEImpl::MoEImpl(const ModelConfig& c)
    : n_routed(c.n_routed_experts), topk(c.n_activated_experts),
      balance_alpha(c.balance_loss_alpha) {
  gate = register_module("gate", Gate(c));
  experts = register_module("experts", torch::nn::ModuleList());
  for (int64_t i = 0; i < n_routed; ++i) experts->push_back(SwiGLU(c.dim, c.moe_inter));
  if (c.n_shared_experts > 0)
    shared = register_module("shared", SwiGLU(c.dim, c.n_shared_experts * c.moe_inter));
  load = torch::zeros({n_routed}, torch::kFloat64);
}

torch::Tensor MoEImpl::forward(const torch::Tensor& x) {
  const auto B = x.size(0), T = x.size(1), D = x.size(2);
  auto flat = x.reshape({B * T, D});
  Routing r = gate(flat);
  const auto N = flat.size(0);

  const bool kern = ops::moe_kernels_usable(flat.device(), r.compute, n_routed, topk);
  auto plan = ops::moe_plan(r.indices, n_routed, kern);
  last_counts = plan.counts.to(torch::kInt64);
  if (is_training()) {  // evaluation never moves the bias
    if (load.device() != flat.device()) load = load.to(flat.device());
    load += plan.counts.to(torch::kFloat64);
  }

  // The experts compute in the gate GEMM's dtype (bf16 under autocast): rows are gathered in it.
  std::vector<torch::Tensor> w1, w2, w3;
  for (int64_t e = 0; e < n_routed; ++e) {
    auto* ex = experts[e]->as<SwiGLUImpl>();
    w1.push_back(ex->w1->weight);
    w2.push_back(ex->w2->weight);
    w3.push_back(ex->w3->weight);
  }
  auto rows = ops::moe_gather(flat.to(r.compute), plan);
  auto h = ops::swiglu(ops::moe_expert_linear(rows, w1, plan),
                      ops::moe_expert_linear(rows, w3, plan));
  auto y = ops::moe_combine(ops::moe_expert_linear(h, w2, plan), r.weights, plan)
               .to(flat.scalar_type());
  if (shared) y = y + shared(flat);

  balance_loss = torch::Tensor();
  if (balance_alpha > 0 && is_training()) {
    // Sequence-wise: alpha * sum_i f_i P_i per sequence, averaged over the batch.
    auto sn = r.scores / r.scores.sum(-1, true);
    auto P = sn.view({B, T, n_routed}).mean(1);
    auto chosen = torch::zeros({N, n_routed}, sn.options()).scatter(1, r.indices, 1.0);
    auto f = chosen.view({B, T, n_routed}).sum(1) * (double(n_routed) / double(topk * T));
    balance_loss = balance_alpha * (f * P).sum(-1).mean();
  }
  return y.view({B, T, D});
}

torch::Tensor MoEImpl::update_bias(double gamma) {
  torch::NoGradGuard ng;
  auto l = load.to(torch::kCPU);  // one sync per layer and step, after the backward
  auto total = l.sum().item<double>();
  auto frac = total > 0 ? l / total : l.clone();
  if (total > 0 && gamma > 0) {
    auto delta = torch::sign(l.mean() - l) * gamma;
    auto& b = gate->bias;
    b.add_(delta.to(b.device()).to(b.scalar_type()));
  }
  load.zero_();
  return frac;
}

}  // namespace r1::model
