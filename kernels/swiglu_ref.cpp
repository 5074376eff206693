#include "kernels/ref_util.h"
#include "kernels/swiglu.h"

#include <cmath>
#include <initializer_list>
#include <limits>

namespace r1::kernels {
namespace {

Status check_shape(const char* w, int64_t n_rows, int64_t dim, std::initializer_list<int64_t> lds) {
  if (n_rows < 0 || dim < 0)
    return invalid_argument(w, "negative shape [" + ref::num(n_rows) + ", " + ref::num(dim) + "]");
  if (n_rows > 0 && dim > std::numeric_limits<int32_t>::max())
    return invalid_argument(w, "dim = " + ref::num(dim) + " (at most 2^31 - 1)");
  for (int64_t ld : lds)
    if (ld != 0 && ld < dim)
      return invalid_argument(w, "row stride " + ref::num(ld) + " < dim = " + ref::num(dim));
  return {};
}

int64_t ld_or(int64_t ld, int64_t dim) { return ld ? ld : dim; }

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Status check(const SwigluParams& p) {
  const char* w = "swiglu_forward";
  if (Status s = check_shape(w, p.n_rows, p.dim, {p.ld_a, p.ld_b, p.ld_h}); !s.ok()) return s;
  if (p.n_rows * p.dim > 0 && (!p.a || !p.b || !p.h))
    return invalid_argument(w, "a, b and h are required");
  return {};
}

Status check(const SwigluBackwardParams& p) {
  const char* w = "swiglu_backward";
  if (Status s = check_shape(w, p.n_rows, p.dim, {p.ld_dh, p.ld_a, p.ld_b, p.ld_da, p.ld_db});
      !s.ok())
    return s;
  if (p.n_rows * p.dim > 0 && (!p.dh || !p.a || !p.b || !p.da || !p.db))
    return invalid_argument(w, "dh, a, b, da and db are required");
  return {};
}

std::vector<double> swiglu_forward_ref(const SwigluParams& p) {
  ref::throw_if(check(p));
  const int64_t N = p.n_rows, D = p.dim, la = ld_or(p.ld_a, D), lb = ld_or(p.ld_b, D);
  std::vector<double> h(N * D);
  for (int64_t r = 0; r < N; ++r)
    for (int64_t j = 0; j < D; ++j) {
      const double a = ref::load(p.a, p.dtype, r * la + j), b = ref::load(p.b, p.dtype, r * lb + j);
      h[r * D + j] = a * sigmoid(a) * b;
    }
  return h;
}

SwigluBackwardRef swiglu_backward_ref(const SwigluBackwardParams& p) {
  ref::throw_if(check(p));
  const int64_t N = p.n_rows, D = p.dim;
  const int64_t ld = ld_or(p.ld_dh, D), la = ld_or(p.ld_a, D), lb = ld_or(p.ld_b, D);
  SwigluBackwardRef out;
  out.da.resize(N * D);
  out.db.resize(N * D);
  for (int64_t r = 0; r < N; ++r)
    for (int64_t j = 0; j < D; ++j) {
      const double g = ref::load(p.dh, p.dtype, r * ld + j);
      const double a = ref::load(p.a, p.dtype, r * la + j), b = ref::load(p.b, p.dtype, r * lb + j);
      const double s = sigmoid(a);
      out.da[r * D + j] = g * b * s * (1.0 + a * (1.0 - s));
      out.db[r * D + j] = g * a * s;
    }
  return out;
}

}  // namespace r1::kernels
