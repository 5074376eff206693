#pragma once
// Dynamic loss scaling for fp16: multiply the loss by `scale`, then before the optimizer step
// unscale the gradients; a non-finite gradient skips the step and halves the scale, and
// `window` clean steps in a row double it.
#include <torch/torch.h>

#include <vector>

namespace r1::train {

class LossScaler {
 public:
  LossScaler() = default;
  LossScaler(bool enabled, double init_scale, int64_t window);

  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  torch::Tensor scale_loss(const torch::Tensor& loss) const;

  // Divides every gradient by the scale (enabled) and reports whether all are finite.
  // Works also when disabled: a non-finite gradient in fp32/bf16 is skipped the same way.
  bool unscale_and_check(const std::vector<torch::Tensor>& params);
  // Records the step outcome: returns true if the optimizer step must be skipped.
  bool update(bool grads_finite);

  int64_t skipped() const { return skipped_; }
  int64_t clean_steps() const { return clean_; }

  // Checkpoint state: {scale, clean steps, skipped} as a float64 tensor.
  torch::Tensor state() const;
  void load_state(const torch::Tensor& s);

 private:
  bool enabled_ = false;
  double scale_ = 1.0;
  int64_t window_ = 2000;
  int64_t clean_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace r1::train
