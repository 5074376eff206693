#include "engine/train/loss_scaler.h"

namespace r1::train {

LossScaler::LossScaler(bool enabled, double init_scale, int64_t window)
    : enabled_(enabled), scale_(enabled ? init_scale : 1.0), window_(window) {}

torch::Tensor LossScaler::scale_loss(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> sums;
  for (const auto& p : params) {
    auto g = p.grad();
    if (!g.defined()) continue;
    if (enabled_) g.mul_(1.0 / scale_);
    sums.push_back(g.detach().sum().to(torch::kFloat32));
  }
  if (sums.empty()) return true;
  // inf or NaN anywhere makes the sum non-finite: reduced on the device, one sync.
  return torch::stack(sums).sum().isfinite().item<bool>();
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
