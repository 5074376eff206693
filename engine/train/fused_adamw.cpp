#include "engine/train/fused_adamw.h"

#include "engine/model/ops/fused_ops.h"

#ifdef R1_WITH_KERNELS
#include "kernels/adamw.h"

#include <ATen/cuda/CUDAContext.h>

#include <cmath>
#include <map>
#include <vector>
#endif

#include <sstream>
#include <type_traits>

namespace r1::train {
namespace {

template <class Map>
typename Map::key_type state_key(const Map&, at::TensorImpl* impl) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream ss;  // what c10::guts::to_string made of the pointer in LibTorch 1.x
    ss << impl;
    return ss.str();
  } else {
    return static_cast<Key>(impl);
  }
}

}  // namespace

torch::optim::AdamWParamState* adamw_state(torch::optim::AdamW& opt, const torch::Tensor& param) {
  auto& states = opt.state();
  auto found = states.find(state_key(states, param.unsafeGetTensorImpl()));
  return found == states.end() ? nullptr
                               : static_cast<torch::optim::AdamWParamState*>(found->second.get());
}

std::optional<double> fused_adamw_step(torch::optim::AdamW& opt, double max_norm) {
#ifndef R1_WITH_KERNELS
  (void)opt;
  (void)max_norm;
  return std::nullopt;
#else
  if (!model::ops::kernels_enabled()) return std::nullopt;
  struct Item {
    torch::Tensor param, grad;
    torch::optim::AdamWParamState* state = nullptr;
    const torch::optim::AdamWOptions* options = nullptr;
  };
  std::vector<Item> items;
  const torch::optim::AdamWOptions* first = nullptr;
  for (auto& group : opt.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    if (o.amsgrad()) return std::nullopt;
    if (!first) first = &o;  // one launch shares betas and eps (per tensor: lr, weight decay)
    if (o.betas() != first->betas() || o.eps() != first->eps()) return std::nullopt;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;  // as ATen's AdamW: no gradient, no step
      const auto& g = p.grad();
      if (!p.is_cuda() || p.scalar_type() != torch::kFloat32 || !p.is_contiguous() ||
          g.scalar_type() != torch::kFloat32 || !g.is_contiguous() || g.is_sparse() ||
          g.device() != p.device())
        return std::nullopt;
      items.push_back({p, g, nullptr, &o});
    }
  }
  if (items.empty()) return 0.0;
  // Optimizer state where ATen's AdamW keeps it (created the way its first step creates it).
  auto& states = opt.state();
  for (auto& it : items) {
    const auto key = state_key(states, it.param.unsafeGetTensorImpl());
    auto found = states.find(key);
    if (found == states.end()) {
      auto st = std::make_unique<torch::optim::AdamWParamState>();
      st->step(0);
      st->exp_avg(torch::zeros_like(it.param, torch::MemoryFormat::Preserve));
      st->exp_avg_sq(torch::zeros_like(it.param, torch::MemoryFormat::Preserve));
      found = states.emplace(key, std::move(st)).first;
    }
    it.state = static_cast<torch::optim::AdamWParamState*>(found->second.get());
  }

  // Global norm in a few multi-tensor launches; the clip factor stays on the device and is
  // folded into the update (no per-tensor rescale).
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> grads;
  grads.reserve(items.size());
  for (auto& it : items) grads.push_back(it.grad);
  auto norms = at::_foreach_norm(grads, 2);
  auto total = torch::stack(norms).norm(2);
  torch::Tensor scale;
  if (std::isfinite(max_norm))
    scale = (max_norm / (total + 1e-6)).clamp_max(1.0).to(torch::kFloat32).contiguous();

  // One launch (or a few) per distinct step count; normally every tensor has the same.
  std::map<int64_t, std::vector<kernels::AdamWTensor>> by_step;
  for (auto& it : items) {
    it.state->step(it.state->step() + 1);
    kernels::AdamWTensor t;
    t.param = it.param.data_ptr<float>();
    t.grad = it.grad.data_ptr<float>();
    t.exp_avg = it.state->exp_avg().data_ptr<float>();
    t.exp_avg_sq = it.state->exp_avg_sq().data_ptr<float>();
    t.numel = it.param.numel();
    t.lr = static_cast<float>(it.options->lr());
    t.weight_decay = static_cast<float>(it.options->weight_decay());
    by_step[it.state->step()].push_back(t);
  }
  const auto& o0 = *first;
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream().stream();
  for (auto& [step, tensors] : by_step) {
    kernels::AdamWOptions ko;
    ko.beta1 = static_cast<float>(std::get<0>(o0.betas()));
    ko.beta2 = static_cast<float>(std::get<1>(o0.betas()));
    ko.eps = static_cast<float>(o0.eps());
    ko.step = step;
    ko.grad_dtype = kernels::DType::f32;
    ko.grad_scale_dev = scale.defined() ? scale.data_ptr<float>() : nullptr;
    auto st = kernels::adamw(tensors.data(), static_cast<int>(tensors.size()), ko, stream);
    TORCH_CHECK(st.ok(), "fused AdamW: ", st.message);
  }
  return total.item<double>();
#endif
}

}  // namespace r1::train
