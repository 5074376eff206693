#include "engine/model/moe.h"

namespace r1::model {

GateImpl::GateImpl(const ModelConfig& c)
    : topk(c.n_activated_experts), n_groups(c.n_expert_groups),
      topk_groups(c.n_limited_groups), route_scale(c.route_scale) {
  weight = register_parameter("weight", torch::empty({c.n_routed_experts, c.dim}));
  torch::nn::init::normal_(weight, 0.0, c.init_std);
  bias = register_buffer("bias", torch::zeros({c.n_routed_experts}, torch::kFloat32));
}

Routing GateImpl::forward(const torch::Tensor& x) {
  const auto N = x.size(0), E = weight.size(0);
  auto ct = x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto scores = torch::sigmoid(torch::nn::functional::linear(x, weight).to(ct));
  torch::Tensor indices;
  {
    torch::NoGradGuard ng;
    auto biased = scores.detach() + bias.to(ct);
    if (n_groups > 1) {
      auto g = biased.view({N, n_groups, E / n_groups});
      auto gscore = (E / n_groups >= 2) ? std::get<0>(g.topk(2, -1)).sum(-1)
                                        : std::get<0>(g.max(-1));
      auto keep = std::get<1>(gscore.topk(topk_groups, -1));
      auto drop = torch::ones({N, n_groups}, torch::TensorOptions().dtype(torch::kBool)
                                                 .device(x.device()))
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

  auto flat_idx = r.indices.reshape({-1});
  auto order = std::get<1>(flat_idx.sort(/*stable=*/true, 0, false));
  auto token_of = order.div(topk, "floor");
  auto counts = torch::bincount(flat_idx, {}, n_routed).to(torch::kCPU);
  last_counts = counts;
  if (is_training()) load += counts.to(torch::kFloat64);  // evaluation never moves the bias
  auto w_sorted = r.weights.reshape({-1}).index_select(0, order).unsqueeze(1);

  auto y = torch::zeros_like(flat);
  const auto* cnt = counts.data_ptr<int64_t>();
  int64_t start = 0;
  for (int64_t e = 0; e < n_routed; ++e) {
    const int64_t n = cnt[e];
    if (n == 0) continue;
    auto rows = token_of.narrow(0, start, n);
    auto out = experts[e]->as<SwiGLUImpl>()->forward(flat.index_select(0, rows));
    // Under autocast the experts compute in bf16/fp16; the combination stays in y's dtype.
    y = y.index_add(0, rows, (out * w_sorted.narrow(0, start, n).to(out.scalar_type()))
                                 .to(y.scalar_type()));
    start += n;
  }
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
  auto total = load.sum().item<double>();
  auto frac = total > 0 ? load / total : load.clone();
  if (total > 0 && gamma > 0) {
    auto delta = torch::sign(load.mean() - load) * gamma;
    auto& b = gate->bias;
    b.add_(delta.to(b.device()).to(b.scalar_type()));
  }
  load.zero_();
  return frac;
}

}  // namespace r1::model
