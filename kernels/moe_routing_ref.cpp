#include "kernels/moe_routing.h"
#include "kernels/ref_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace r1::kernels {

namespace {

Status check_shape(const char* w, int64_t n_tokens, int n_experts, int top_k) {
  if (n_tokens < 0 || n_tokens > INT32_MAX)
    return invalid_argument(w, "n_tokens = " + ref::num(n_tokens) + " (must be in [0, 2^31))");
  if (n_experts < 1 || n_experts > 256)
    return invalid_argument(w, "n_experts = " + std::to_string(n_experts) +
                                   " (must be in [1, 256])");
  if (top_k < 1 || top_k > 8 || top_k > n_experts)
    return invalid_argument(w, "top_k = " + std::to_string(top_k) + " (must be in [1, min(8, " +
                                   std::to_string(n_experts) + ")])");
  return {};
}

}  // namespace

Status check(const MoeRoutingParams& p) {
  const char* w = "moe_routing";
  if (Status s = check_shape(w, p.n_tokens, p.n_experts, p.top_k); !s.ok()) return s;
  if (p.n_groups < 1 || p.n_groups > 32 || p.n_experts % p.n_groups)
    return invalid_argument(w, "n_groups = " + std::to_string(p.n_groups) +
                                   " (must divide n_experts = " + std::to_string(p.n_experts) +
                                   " and be at most 32)");
  if (p.n_groups > 1 && (p.topk_groups < 1 || p.topk_groups > p.n_groups ||
                         p.topk_groups * (p.n_experts / p.n_groups) < p.top_k))
    return invalid_argument(w, "topk_groups = " + std::to_string(p.topk_groups) +
                                   " (must be in [1, n_groups] and keep >= top_k experts)");
  if (p.ld_logits != 0 && p.ld_logits < p.n_experts)
    return invalid_argument(w, "ld_logits = " + ref::num(p.ld_logits) + " < n_experts");
  if (p.n_tokens > 0 && (!p.logits || !p.weights || !p.indices))
    return invalid_argument(w, "logits, weights and indices are required");
  return {};
}

Status check(const MoeRoutingBackwardParams& p) {
  const char* w = "moe_routing_backward";
  if (Status s = check_shape(w, p.n_tokens, p.n_experts, p.top_k); !s.ok()) return s;
  if (p.ld_dlogits != 0 && p.ld_dlogits < p.n_experts)
    return invalid_argument(w, "ld_dlogits = " + ref::num(p.ld_dlogits) + " < n_experts");
  if (p.n_tokens > 0 && (!p.scores || !p.indices || !p.dweights || !p.dlogits))
    return invalid_argument(w, "scores, indices, dweights and dlogits are required");
  return {};
}

MoeRoutingRef moe_routing_ref(const MoeRoutingParams& p) {
  ref::throw_if(check(p));
  const int64_t N = p.n_tokens;
  const int E = p.n_experts, K = p.top_k, G = p.n_groups, gs = E / G;
  const int64_t ld = p.ld_logits ? p.ld_logits : E;
  const double ninf = -std::numeric_limits<double>::infinity();
  MoeRoutingRef r;
  r.scores.resize(N * E);
  r.weights.resize(N * K);
  r.indices.resize(N * K);
  std::vector<double> b(E);
  std::vector<int> order(E);
  for (int64_t i = 0; i < N; ++i) {
    for (int e = 0; e < E; ++e) {
      const double s = 1.0 / (1.0 + std::exp(-ref::load(p.logits, p.dtype, i * ld + e)));
      r.scores[i * E + e] = s;
      b[e] = s + (p.bias ? p.bias[e] : 0.0);
    }
    if (G > 1) {
      std::vector<double> gscore(G);
      for (int g = 0; g < G; ++g) {
        std::vector<double> v(b.begin() + g * gs, b.begin() + (g + 1) * gs);
        std::sort(v.rbegin(), v.rend());
        gscore[g] = gs >= 2 ? v[0] + v[1] : v[0];
      }
      std::vector<int> gorder(G);
      std::iota(gorder.begin(), gorder.end(), 0);
      std::stable_sort(gorder.begin(), gorder.end(),
                       [&](int x, int y) { return gscore[x] > gscore[y]; });
      for (int j = p.topk_groups; j < G; ++j)
        for (int e = gorder[j] * gs; e < (gorder[j] + 1) * gs; ++e) b[e] = ninf;
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return b[x] > b[y]; });
    double sum = 0;
    for (int j = 0; j < K; ++j) sum += r.scores[i * E + order[j]];
    for (int j = 0; j < K; ++j) {
      r.indices[i * K + j] = order[j];
      r.weights[i * K + j] = r.scores[i * E + order[j]] / sum * p.route_scale;
    }
  }
  return r;
}

std::vector<double> moe_routing_backward_ref(const MoeRoutingBackwardParams& p) {
  ref::throw_if(check(p));
  const int64_t N = p.n_tokens;
  const int E = p.n_experts, K = p.top_k;
  std::vector<double> d(N * E), ds(E);
  for (int64_t i = 0; i < N; ++i) {
    const float* s = p.scores + i * E;
    std::fill(ds.begin(), ds.end(), 0.0);
    double S = 0, dot = 0;
    for (int j = 0; j < K; ++j) S += s[ref::load_index(p.indices, p.index_type, i * K + j)];
    for (int j = 0; j < K; ++j)
      dot += p.dweights[i * K + j] * s[ref::load_index(p.indices, p.index_type, i * K + j)];
    for (int j = 0; j < K; ++j) {
      const int64_t e = ref::load_index(p.indices, p.index_type, i * K + j);
      ds[e] += p.route_scale / S * (p.dweights[i * K + j] - dot / S);
    }
    for (int e = 0; e < E; ++e) {
      const double g = ds[e] + (p.dscores_extra ? p.dscores_extra[i * E + e] : 0.0);
      d[i * E + e] = g * s[e] * (1.0 - s[e]);
    }
  }
  return d;
}

}  // namespace r1::kernels
