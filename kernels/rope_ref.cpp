#include "kernels/rope.h"
#include "kernels/ref_util.h"

#include <limits>

namespace r1::kernels {

Status check(const RopeParams& p) {
  const char* w = "rope";
  if (p.batch < 0 || p.seq < 0 || p.heads < 0)
    return invalid_argument(w, "negative shape [" + ref::num(p.batch) + ", " + ref::num(p.seq) +
                                   ", " + ref::num(p.heads) + ", " + ref::num(p.dim) + "]");
  if (p.dim < 2 || p.dim % 2)
    return invalid_argument(w, "dim = " + ref::num(p.dim) + " (must be even and >= 2)");
  const int64_t ld = p.ld_table ? p.ld_table : p.dim / 2;
  if (ld < p.dim / 2)
    return invalid_argument(w, "ld_table = " + ref::num(ld) + " < dim / 2 = " +
                                   ref::num(p.dim / 2));
  const int64_t rows = p.batch * p.seq * p.heads;
  if (rows > 0 && rows * (p.dim / 2) > std::numeric_limits<int32_t>::max())
    return invalid_argument(w, "batch * seq * heads * dim / 2 = " + ref::num(rows * (p.dim / 2)) +
                                   " (at most 2^31 - 1 pairs per call)");
  if (rows == 0) return {};
  if (!p.x || !p.out || !p.cos || !p.sin)
    return invalid_argument(w, "x, out, cos and sin are required");
  return {};
}

std::vector<double> rope_ref(const RopeParams& p) {
  ref::throw_if(check(p));
  const int64_t B = p.batch, T = p.seq, H = p.heads, D = p.dim;
  const int64_t ld = p.ld_table ? p.ld_table : D / 2;
  const double sign = p.backward ? -1.0 : 1.0;
  std::vector<double> out(B * T * H * D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t src = b * p.x_stride_b + t * p.x_stride_t + h * p.x_stride_h;
        double* dst = &out[((b * T + t) * H + h) * D];
        for (int64_t i = 0; i < D / 2; ++i) {
          const double x0 = ref::load(p.x, p.dtype, src + 2 * i);
          const double x1 = ref::load(p.x, p.dtype, src + 2 * i + 1);
          const double c = p.cos[t * ld + i], s = sign * p.sin[t * ld + i];
          dst[2 * i] = x0 * c - x1 * s;
          dst[2 * i + 1] = x0 * s + x1 * c;
        }
      }
  return out;
}

}  // namespace r1::kernels
