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
  if (p.head_dim != 0 && p.head_dim < p.dim)
    return invalid_argument(w, "head_dim = " + ref::num(p.head_dim) + " < dim = " +
                                   ref::num(p.dim) + " (0 for rows of dim elements)");
  const int64_t ld = p.ld_table ? p.ld_table : p.dim / 2;
  if (ld < p.dim / 2)
    return invalid_argument(w, "ld_table = " + ref::num(ld) + " < dim / 2 = " +
                                   ref::num(p.dim / 2));
  // The kernel indexes its threads in 32 bits; at most one per copied element and one per
  // rotated pair (the path for unaligned views).
  const int64_t rows = p.batch * p.seq * p.heads;
  const int64_t units = (p.head_dim ? p.head_dim - p.dim : 0) + p.dim / 2;
  if (rows > 0 && rows * units > std::numeric_limits<int32_t>::max())
    return invalid_argument(w, "batch * seq * heads * (head_dim - dim / 2) = " +
                                   ref::num(rows * units) +
                                   " (at most 2^31 - 1 copied elements + rotated pairs per call)");
  if (rows == 0) return {};
  if (!p.x || !p.out || !p.cos || !p.sin)
    return invalid_argument(w, "x, out, cos and sin are required");
  return {};
}

std::vector<double> rope_ref(const RopeParams& p) {
  ref::throw_if(check(p));
  const int64_t B = p.batch, T = p.seq, H = p.heads, D = p.dim;
  const int64_t HD = p.head_dim ? p.head_dim : D, keep = HD - D;
  const int64_t ld = p.ld_table ? p.ld_table : D / 2;
  const double sign = p.backward ? -1.0 : 1.0;
  std::vector<double> out(B * T * H * HD);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h) {
        int64_t src = b * p.x_stride_b + t * p.x_stride_t + h * p.x_stride_h;
        double* dst = &out[((b * T + t) * H + h) * HD];
        for (int64_t j = 0; j < keep; ++j) dst[j] = ref::load(p.x, p.dtype, src + j);
        src += keep;
        dst += keep;
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
