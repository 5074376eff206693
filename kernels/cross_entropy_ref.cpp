#include "kernels/cross_entropy.h"
#include "kernels/ref_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace r1::kernels {

Status check(const CrossEntropyParams& p) {
  const char* w = "cross_entropy";
  const int64_t ld = p.ld_logits ? p.ld_logits : p.vocab;
  const int64_t ldg = p.ld_dlogits ? p.ld_dlogits : p.vocab;
  if (p.n_rows < 0)
    return invalid_argument(w, "n_rows = " + ref::num(p.n_rows) + " (must be >= 0)");
  if (p.n_rows > std::numeric_limits<int32_t>::max())
    return invalid_argument(w, "n_rows = " + ref::num(p.n_rows) + " (at most 2^31 - 1)");
  if (p.vocab < 1 || p.vocab > std::numeric_limits<int32_t>::max())
    return invalid_argument(w, "vocab = " + ref::num(p.vocab) + " (must be in [1, 2^31))");
  if (ld < p.vocab)
    return invalid_argument(w, "ld_logits = " + ref::num(ld) + " < vocab = " + ref::num(p.vocab));
  if (!(p.smoothing >= 0.f && p.smoothing <= 1.f))
    return invalid_argument(w, "smoothing = " + std::to_string(p.smoothing) +
                                   " (must be in [0, 1])");
  if (p.n_rows == 0) return {};
  if (!p.logits) return invalid_argument(w, "logits is null");
  if (!p.targets) return invalid_argument(w, "targets is null");
  if (p.dlogits) {
    if (ldg < p.vocab)
      return invalid_argument(w, "ld_dlogits = " + ref::num(ldg) + " < vocab = " +
                                     ref::num(p.vocab));
    if (p.dlogits == p.logits && ldg != ld)
      return invalid_argument(w, "in-place gradient needs ld_dlogits == ld_logits (" +
                                     ref::num(ldg) + " vs " + ref::num(ld) + ")");
  }
  return {};
}

CrossEntropyRef cross_entropy_ref(const CrossEntropyParams& p) {
  ref::throw_if(check(p));
  if (p.grad_scale_dev)
    throw std::invalid_argument("r1k::cross_entropy_ref: grad_scale_dev must be null on the CPU");
  const int64_t N = p.n_rows, V = p.vocab;
  const int64_t ld = p.ld_logits ? p.ld_logits : V;
  const double eps = p.smoothing, scale = p.grad_scale;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CrossEntropyRef r;
  r.loss.assign(N, 0.0);
  r.lse.assign(N, 0.0);
  if (p.dlogits) r.dlogits.assign(N * V, 0.0);
  std::vector<double> x(V);
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = ref::load_index(p.targets, p.target_type, i);
    if (t == p.ignore_index) continue;
    for (int64_t j = 0; j < V; ++j) x[j] = ref::load(p.logits, p.dtype, i * ld + j);
    const double m = *std::max_element(x.begin(), x.end());
    double s = 0, sx = 0;
    for (int64_t j = 0; j < V; ++j) {
      s += std::exp(x[j] - m);
      sx += x[j];
    }
    const double lse = m + std::log(s);
    const bool bad = t < 0 || t >= V;
    r.lse[i] = lse;
    r.loss[i] = bad ? nan : (1 - eps) * (lse - x[t]) + eps * (lse - sx / V);
    if (!p.dlogits) continue;
    for (int64_t j = 0; j < V; ++j) {
      double g = std::exp(x[j] - lse) - eps / V - (j == t ? 1 - eps : 0.0);
      r.dlogits[i * V + j] = bad ? nan : g * scale;
    }
  }
  return r;
}

}  // namespace r1::kernels
