#include "kernels/moe_permute.h"
#include "kernels/ref_util.h"

#include <algorithm>
#include <numeric>

namespace r1::kernels {

namespace {

constexpr int64_t kChunk = 256;  // pairs per block of the plan (kernels/moe_permute.cu)

Status check_pairs(const char* w, int64_t n_tokens, int top_k) {
  if (n_tokens < 0) return invalid_argument(w, "n_tokens = " + ref::num(n_tokens));
  if (top_k < 1 || top_k > 8)
    return invalid_argument(w, "top_k = " + std::to_string(top_k) + " (must be in [1, 8])");
  if (n_tokens * top_k > INT32_MAX)
    return invalid_argument(w, "n_tokens * top_k = " + ref::num(n_tokens * top_k) +
                                   " (at most 2^31 - 1)");
  return {};
}

Status check_dim(const char* w, int64_t dim, std::initializer_list<int64_t> lds) {
  if (dim < 1) return invalid_argument(w, "dim = " + ref::num(dim));
  for (int64_t ld : lds)
    if (ld != 0 && ld < dim)
      return invalid_argument(w, "a row stride (" + ref::num(ld) + ") < dim = " + ref::num(dim));
  return {};
}

int64_t ld_or(int64_t ld, int64_t dim) { return ld ? ld : dim; }

}  // namespace

size_t moe_permute_workspace_bytes(int64_t n_tokens, int top_k, int n_experts) {
  const int64_t P = std::max<int64_t>(0, n_tokens * top_k);
  const int64_t chunks = (P + kChunk - 1) / kChunk;
  return static_cast<size_t>(2 * chunks * std::max(n_experts, 0) + P) * sizeof(int32_t);
}

Status check(const MoePermutePlanParams& p) {
  const char* w = "moe_permute_plan";
  if (Status s = check_pairs(w, p.n_tokens, p.top_k); !s.ok()) return s;
  if (p.n_experts < 1 || p.n_experts > 4096)
    return invalid_argument(w, "n_experts = " + std::to_string(p.n_experts) + " (1 ... 4096)");
  if (!p.counts || !p.offsets) return invalid_argument(w, "counts and offsets are required");
  if (p.n_tokens == 0) return {};
  if (!p.indices || !p.position || !p.pair_of)
    return invalid_argument(w, "indices, position and pair_of are required");
  const size_t need = moe_permute_workspace_bytes(p.n_tokens, p.top_k, p.n_experts);
  if (!p.workspace || p.workspace_bytes < need)
    return invalid_argument(w, "workspace of " + std::to_string(p.workspace_bytes) +
                                   " bytes; needs " + std::to_string(need));
  return {};
}

Status check(const MoeGatherParams& p) {
  const char* w = "moe_gather";
  if (p.n_rows < 0 || p.n_rows > INT32_MAX)
    return invalid_argument(w, "n_rows = " + ref::num(p.n_rows));
  if (p.top_k < 1 || p.top_k > 8) return invalid_argument(w, "top_k = " + std::to_string(p.top_k));
  if (Status s = check_dim(w, p.dim, {p.ld_x, p.ld_rows}); !s.ok()) return s;
  if (p.n_rows > 0 && (!p.x || !p.pair_of || !p.rows))
    return invalid_argument(w, "x, pair_of and rows are required");
  return {};
}

Status check(const MoeCombineParams& p) {
  const char* w = "moe_combine";
  if (Status s = check_pairs(w, p.n_tokens, p.top_k); !s.ok()) return s;
  if (Status s = check_dim(w, p.dim, {p.ld_rows, p.ld_y}); !s.ok()) return s;
  if (p.n_tokens > 0 && (!p.rows || !p.position || !p.y))
    return invalid_argument(w, "rows, position and y are required");
  return {};
}

Status check(const MoeCombineWeightGradParams& p) {
  const char* w = "moe_combine_weight_grad";
  if (Status s = check_pairs(w, p.n_tokens, p.top_k); !s.ok()) return s;
  if (Status s = check_dim(w, p.dim, {p.ld_dy, p.ld_rows}); !s.ok()) return s;
  if (p.n_tokens > 0 && (!p.dy || !p.rows || !p.position || !p.dweights))
    return invalid_argument(w, "dy, rows, position and dweights are required");
  return {};
}

MoePermutePlanRef moe_permute_plan_ref(const MoePermutePlanParams& p) {
  ref::throw_if(check(p));
  const int64_t P = p.n_tokens * p.top_k;
  const int E = p.n_experts;
  MoePermutePlanRef r;
  r.counts.assign(E, 0);
  r.offsets.assign(E + 1, 0);
  r.position.assign(P, -1);
  r.pair_of.assign(P, -1);
  std::vector<int64_t> e(P);
  std::vector<int32_t> valid;
  for (int64_t q = 0; q < P; ++q) {
    e[q] = ref::load_index(p.indices, p.index_type, q);
    if (e[q] >= 0 && e[q] < E) {
      ++r.counts[e[q]];
      valid.push_back(static_cast<int32_t>(q));
    }
  }
  std::stable_sort(valid.begin(), valid.end(), [&](int32_t a, int32_t b) { return e[a] < e[b]; });
  for (int x = 0; x < E; ++x) r.offsets[x + 1] = r.offsets[x] + r.counts[x];
  for (size_t row = 0; row < valid.size(); ++row) {
    r.pair_of[row] = valid[row];
    r.position[valid[row]] = static_cast<int32_t>(row);
  }
  return r;
}

std::vector<double> moe_gather_ref(const MoeGatherParams& p) {
  ref::throw_if(check(p));
  const int64_t D = p.dim;
  std::vector<double> out(p.n_rows * D, 0.0);
  for (int64_t r = 0; r < p.n_rows; ++r) {
    const int32_t q = p.pair_of[r];
    if (q < 0) continue;
    const double w = p.weights ? p.weights[q] : 1.0;
    for (int64_t j = 0; j < D; ++j)
      out[r * D + j] = w * ref::load(p.x, p.dtype, (q / p.top_k) * ld_or(p.ld_x, D) + j);
  }
  return out;
}

std::vector<double> moe_combine_ref(const MoeCombineParams& p) {
  ref::throw_if(check(p));
  const int64_t D = p.dim;
  std::vector<double> y(p.n_tokens * D, 0.0);
  for (int64_t t = 0; t < p.n_tokens; ++t)
    for (int64_t j = 0; j < D; ++j) {
      double acc = p.accumulate ? ref::load(p.y, p.dtype, t * ld_or(p.ld_y, D) + j) : 0.0;
      for (int s = 0; s < p.top_k; ++s) {
        const int32_t row = p.position[t * p.top_k + s];
        if (row < 0) continue;
        const double w = p.weights ? p.weights[t * p.top_k + s] : 1.0;
        acc += w * ref::load(p.rows, p.dtype, row * ld_or(p.ld_rows, D) + j);
      }
      y[t * D + j] = acc;
    }
  return y;
}

std::vector<double> moe_combine_weight_grad_ref(const MoeCombineWeightGradParams& p) {
  ref::throw_if(check(p));
  const int64_t D = p.dim;
  std::vector<double> dw(p.n_tokens * p.top_k, 0.0);
  for (int64_t t = 0; t < p.n_tokens; ++t)
    for (int s = 0; s < p.top_k; ++s) {
      const int32_t row = p.position[t * p.top_k + s];
      if (row < 0) continue;
      double d = 0;
      for (int64_t j = 0; j < D; ++j)
        d += ref::load(p.dy, p.dtype, t * ld_or(p.ld_dy, D) + j) *
             ref::load(p.rows, p.dtype, row * ld_or(p.ld_rows, D) + j);
      dw[t * p.top_k + s] = d;
    }
  return dw;
}

}  // namespace r1::kernels
