#include "kernels/adamw.h"
#include "kernels/ref_util.h"

#include <cmath>

namespace r1::kernels {

Status check(const AdamWTensor* tensors, int count, const AdamWOptions& o) {
  const char* w = "adamw";
  if (count < 0 || (count > 0 && !tensors))
    return invalid_argument(w, "count = " + std::to_string(count) + " with tensors " +
                                   (tensors ? "set" : "null"));
  if (o.step < 1) return invalid_argument(w, "step = " + ref::num(o.step) + " (counts from 1)");
  if (!(o.beta1 >= 0.f && o.beta1 < 1.f) || !(o.beta2 >= 0.f && o.beta2 < 1.f))
    return invalid_argument(w, "betas (" + std::to_string(o.beta1) + ", " +
                                   std::to_string(o.beta2) + ") must be in [0, 1)");
  if (!(o.eps >= 0.f)) return invalid_argument(w, "eps = " + std::to_string(o.eps));
  for (int i = 0; i < count; ++i) {
    const AdamWTensor& t = tensors[i];
    const std::string at = "tensor " + std::to_string(i) + ": ";
    if (t.numel < 0) return invalid_argument(w, at + "numel = " + ref::num(t.numel));
    if (t.numel > 0 && (!t.param || !t.grad || !t.exp_avg || !t.exp_avg_sq))
      return invalid_argument(w, at + "param, grad, exp_avg and exp_avg_sq are required");
  }
  return {};
}

AdamWRef adamw_ref(const AdamWTensor& t, const AdamWOptions& o) {
  ref::throw_if(check(&t, 1, o));
  if (o.grad_scale_dev || o.found_inf_dev)
    throw std::invalid_argument("r1k::adamw_ref: device-only options must be null on the CPU");
  const double b1 = o.beta1, b2 = o.beta2, lr = t.lr;
  const double bc1 = 1 - std::pow(b1, static_cast<double>(o.step));
  const double bc2 = 1 - std::pow(b2, static_cast<double>(o.step));
  AdamWRef r;
  r.param.resize(t.numel);
  r.exp_avg.resize(t.numel);
  r.exp_avg_sq.resize(t.numel);
  for (int64_t i = 0; i < t.numel; ++i) {
    const double g = ref::load(t.grad, o.grad_dtype, i) * static_cast<double>(o.grad_scale);
    double p = t.param[i] * (1 - lr * t.weight_decay);
    const double m = b1 * t.exp_avg[i] + (1 - b1) * g;
    const double v = b2 * t.exp_avg_sq[i] + (1 - b2) * g * g;
    p -= lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + o.eps);
    r.param[i] = p;
    r.exp_avg[i] = m;
    r.exp_avg_sq[i] = v;
  }
  return r;
}

}  // namespace r1::kernels
