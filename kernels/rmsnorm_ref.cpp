#include "kernels/rmsnorm.h"
#include "kernels/ref_util.h"

#include <algorithm>
#include <cmath>

namespace r1::kernels {

namespace {

constexpr int64_t kMaxBackwardBlocks = 1024;  // as kernels/rmsnorm.cu launches at most

Status check_common(const char* w, int64_t n_rows, int64_t dim, DType dtype) {
  if (n_rows < 0 || n_rows > INT32_MAX)
    return invalid_argument(w, "n_rows = " + ref::num(n_rows) + " (must be in [0, 2^31))");
  const int64_t max_dim = 1024 * (16 / size_of(dtype));  // kernels/rmsnorm.cu: 1024 packs
  if (dim < 1 || dim > max_dim)
    return invalid_argument(w, "dim = " + ref::num(dim) + " (must be in [1, " + ref::num(max_dim) +
                                   "] for " + name(dtype) + ")");
  return {};
}

Status check_ld(const char* w, const char* what, int64_t ld, int64_t dim) {
  if (ld != 0 && ld < dim)
    return invalid_argument(w, std::string(what) + " = " + ref::num(ld) + " < dim = " +
                                   ref::num(dim));
  return {};
}

int64_t ld_or(int64_t ld, int64_t dim) { return ld ? ld : dim; }

}  // namespace

size_t rmsnorm_backward_workspace_bytes(int64_t n_rows, int64_t dim) {
  if (n_rows <= 0 || dim <= 0) return 0;
  return static_cast<size_t>(std::min(n_rows, kMaxBackwardBlocks) * dim) * sizeof(float);
}

Status check(const RmsNormForwardParams& p) {
  const char* w = "rmsnorm_forward";
  if (Status s = check_common(w, p.n_rows, p.dim, p.dtype); !s.ok()) return s;
  for (auto [what, ld] : {std::pair{"ld_x", p.ld_x}, {"ld_residual", p.ld_residual},
                          {"ld_y", p.ld_y}, {"ld_h", p.ld_h}})
    if (Status s = check_ld(w, what, ld, p.dim); !s.ok()) return s;
  if (!(p.eps >= 0.f)) return invalid_argument(w, "eps = " + std::to_string(p.eps));
  if (p.y_bf16 && p.dtype != DType::f32)
    return invalid_argument(w, "y_bf16 needs dtype f32 (x and h in f32, y in bf16)");
  if (p.y_bf16 && p.y && (p.y == p.x || p.y == p.h))
    return invalid_argument(w, "y in bf16 cannot share x's or h's f32 memory");
  if (p.n_rows == 0) return {};
  if (!p.x || !p.weight || !p.y) return invalid_argument(w, "x, weight and y are required");
  if (p.residual && !p.h) return invalid_argument(w, "h (x + residual) is required with residual");
  if (!p.residual && p.h) return invalid_argument(w, "h is set but residual is null");
  return {};
}

Status check(const RmsNormBackwardParams& p) {
  const char* w = "rmsnorm_backward";
  if (Status s = check_common(w, p.n_rows, p.dim, p.dtype); !s.ok()) return s;
  for (auto [what, ld] : {std::pair{"ld_dy", p.ld_dy}, {"ld_h", p.ld_h},
                          {"ld_dh_extra", p.ld_dh_extra}, {"ld_dx", p.ld_dx}})
    if (Status s = check_ld(w, what, ld, p.dim); !s.ok()) return s;
  if (p.dy_bf16 && p.dtype != DType::f32)
    return invalid_argument(w, "dy_bf16 needs dtype f32 (h and dx in f32, dy in bf16)");
  if (p.n_rows == 0) return {};
  if (!p.dy || !p.h || !p.weight || !p.rstd || !p.dx)
    return invalid_argument(w, "dy, h, weight, rstd and dx are required");
  if (p.dweight) {
    const size_t need = rmsnorm_backward_workspace_bytes(p.n_rows, p.dim);
    if (!p.workspace || p.workspace_bytes < need)
      return invalid_argument(w, "workspace of " + std::to_string(p.workspace_bytes) +
                                     " bytes; dweight needs " + std::to_string(need));
  }
  return {};
}

RmsNormForwardRef rmsnorm_forward_ref(const RmsNormForwardParams& p) {
  ref::throw_if(check(p));
  const int64_t N = p.n_rows, D = p.dim;
  RmsNormForwardRef r;
  r.y.resize(N * D);
  r.h.resize(N * D);
  r.rstd.resize(N);
  for (int64_t i = 0; i < N; ++i) {
    double ss = 0;
    for (int64_t j = 0; j < D; ++j) {
      double h = ref::load(p.x, p.dtype, i * ld_or(p.ld_x, D) + j);
      if (p.residual)
        h = ref::round_to(h + ref::load(p.residual, p.y_bf16 ? DType::bf16 : p.dtype,
                                        i * ld_or(p.ld_residual, D) + j),
                          p.dtype);
      r.h[i * D + j] = h;
      ss += h * h;
    }
    const double rs = 1.0 / std::sqrt(ss / D + p.eps);
    r.rstd[i] = rs;
    for (int64_t j = 0; j < D; ++j) r.y[i * D + j] = r.h[i * D + j] * rs * p.weight[j];
  }
  return r;
}

RmsNormBackwardRef rmsnorm_backward_ref(const RmsNormBackwardParams& p) {
  ref::throw_if(check(p));
  const int64_t N = p.n_rows, D = p.dim;
  RmsNormBackwardRef r;
  r.dx.resize(N * D);
  r.dweight.assign(D, 0.0);
  if (p.dweight && p.accumulate_dweight)
    for (int64_t j = 0; j < D; ++j) r.dweight[j] = p.dweight[j];
  std::vector<double> xhat(D), g(D);
  for (int64_t i = 0; i < N; ++i) {
    const double rs = p.rstd[i];
    double dot = 0;
    for (int64_t j = 0; j < D; ++j) {
      const double dy =
          ref::load(p.dy, p.dy_bf16 ? DType::bf16 : p.dtype, i * ld_or(p.ld_dy, D) + j);
      xhat[j] = ref::load(p.h, p.dtype, i * ld_or(p.ld_h, D) + j) * rs;
      g[j] = p.weight[j] * dy;
      dot += g[j] * xhat[j];
      r.dweight[j] += dy * xhat[j];
    }
    dot /= D;
    for (int64_t j = 0; j < D; ++j) {
      double d = rs * (g[j] - xhat[j] * dot);
      if (p.dh_extra) d += ref::load(p.dh_extra, p.dtype, i * ld_or(p.ld_dh_extra, D) + j);
      r.dx[i * D + j] = d;
    }
  }
  return r;
}

}  // namespace r1::kernels
