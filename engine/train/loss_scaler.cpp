#include "engine/train/loss_scaler.h"

namespace r1::train {

LossScaler::LossScaler(bool enabled, double init_scale, int64_t window)
    : enabled_(enabled), scale_(enabled ? init_scale : 1.0), window_(window) {}

torch::Tensor LossScaler::scale_loss(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return true;
  if (enabled_) at::_foreach_mul_(grads, 1.0 / scale_);
  // inf or NaN anywhere makes that tensor's norm, and so the sum of the norms, non-finite: a
  // few multi-tensor launches and one sync (one sum per tensor was 0.8 ms of a 25 ms step).
  auto norms = at::_foreach_norm(grads, 2);
  return torch::stack(norms).sum().isfinite().item<bool>();
}

bool LossScaler::update(bool finite) {
  if (!finite) {
    ++skipped_;
    clean_ = 0;
    if (enabled_) scale_ = std::max(scale_ * 0.5, 1.0);
    return true;
  }
  if (enabled_ && ++clean_ >= window_) {
    scale_ *= 2.0;
    clean_ = 0;
  }
  return false;
}

torch::Tensor LossScaler::state() const {
  return torch::tensor({scale_, static_cast<double>(clean_), static_cast<double>(skipped_)},
                       torch::kFloat64);
}

void LossScaler::load_state(const torch::Tensor& s) {
  TORCH_CHECK(s.numel() == 3, "loss scaler state must hold 3 numbers");
  auto a = s.to(torch::kFloat64).contiguous();
  const double* d = a.data_ptr<double>();
  scale_ = d[0];
  clean_ = static_cast<int64_t>(d[1]);
  skipped_ = static_cast<int64_t>(d[2]);
}

}  // namespace r1::train
