// Rotary embedding, interleaved pairs (contract in rope.h). One thread per 16 bytes of a head
// row (8 bf16 or 4 fp32 elements): a pack of the copied part (head_dim > dim) goes through as it
// is, a pack of the rotated part is turned with its 4 or 2 (cos, sin) pairs, which stay in L1 /
// L2 across batch and heads. Where strides, pointers or the copied width do not allow 16-byte
// accesses: one thread per copied element and one per rotated pair.
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"
#include "kernels/rope.h"

namespace r1::kernels {
namespace {

using namespace dev;

constexpr int kThreads = 256;

template <typename T>
struct RopeArgs {
  const T* x;
  T* out;
  const float* cos;
  const float* sin;
  int64_t sxb, sxt, sxh, sob, sot, soh, ld;
  unsigned keep;        // copied elements at the start of each row (head_dim - dim)
  unsigned copy_units;  // threads per row for them: keep / kVec, or keep on the pair path
  unsigned seq, heads, units_per_row, total;
  float sign;  // -1 for the backward
};

template <typename T, int kVec>
__global__ void __launch_bounds__(kThreads) rope_kernel(const RopeArgs<T> a) {
  constexpr int kPairs = kVec / 2;
  const unsigned gid = blockIdx.x * kThreads + threadIdx.x;
  if (gid >= a.total) return;
  const unsigned u = gid % a.units_per_row, row = gid / a.units_per_row;
  const unsigned h = row % a.heads, bt = row / a.heads;
  const unsigned t = bt % a.seq, b = bt / a.seq;
  const T* x = a.x + b * a.sxb + t * a.sxt + h * a.sxh;
  T* o = a.out + b * a.sob + t * a.sot + h * a.soh;
  const bool rotated = u >= a.copy_units;
  const unsigned r = u - a.copy_units;  // the unit's place in the rotated part, when rotated

  Pack<T, kVec> xv;
  if constexpr (kVec == 2) {
    // keep may be odd here: the copied part element by element, then a pair per thread.
    if (!rotated) {
      o[u] = x[u];
      return;
    }
    x += a.keep + 2 * r;
    o += a.keep + 2 * r;
    xv.v[0] = x[0];
    xv.v[1] = x[1];
  } else {
    // keep is a multiple of kVec: every pack is all copied or all rotated.
    x += u * kVec;
    o += u * kVec;
    xv = load_pack<T, kVec>(x);
  }
  if (rotated) {
    const int64_t ti = t * a.ld + r * kPairs;
    Pack<float, kPairs> cv, sv;
    if constexpr (kVec == 2) {
      cv.v[0] = a.cos[ti];
      sv.v[0] = a.sin[ti];
    } else {
      cv = load_pack<float, kPairs>(a.cos + ti);
      sv = load_pack<float, kPairs>(a.sin + ti);
    }
#pragma unroll
    for (int i = 0; i < kPairs; ++i) {
      const float x0 = to_float(xv.v[2 * i]), x1 = to_float(xv.v[2 * i + 1]);
      const float c = cv.v[i], s = a.sign * sv.v[i];
      xv.v[2 * i] = from_float<T>(x0 * c - x1 * s);
      xv.v[2 * i + 1] = from_float<T>(x0 * s + x1 * c);
    }
  }
  if constexpr (kVec == 2) {
    o[0] = xv.v[0];
    o[1] = xv.v[1];
  } else {
    store_pack<T, kVec>(o, xv);
  }
}

template <typename T, int kVec>
Status launch(const RopeParams& p, cudaStream_t stream) {
  const int64_t keep = (p.head_dim ? p.head_dim : p.dim) - p.dim;
  const int64_t copy_units = kVec == 2 ? keep : keep / kVec;
  const int64_t units = copy_units + p.dim / kVec;
  const int64_t total = p.batch * p.seq * p.heads * units;
  RopeArgs<T> a{static_cast<const T*>(p.x), static_cast<T*>(p.out), p.cos, p.sin,
                p.x_stride_b, p.x_stride_t, p.x_stride_h, p.out_stride_b, p.out_stride_t,
                p.out_stride_h, p.ld_table ? p.ld_table : p.dim / 2,
                static_cast<unsigned>(keep), static_cast<unsigned>(copy_units),
                static_cast<unsigned>(p.seq), static_cast<unsigned>(p.heads),
                static_cast<unsigned>(units), static_cast<unsigned>(total),
                p.backward ? -1.f : 1.f};
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  auto kernel = rope_kernel<T, kVec>;
  R1K_LAUNCH(kernel, static_cast<unsigned>(blocks), kThreads, 0, stream, a);
  R1K_LAUNCH_CHECK("rope");
  return {};
}

template <typename T>
Status dispatch(const RopeParams& p, cudaStream_t stream) {
  constexpr int kVec = 16 / sizeof(T), kPairs = kVec / 2;
  const int64_t ld = p.ld_table ? p.ld_table : p.dim / 2;
  const int64_t keep = (p.head_dim ? p.head_dim : p.dim) - p.dim;
  bool vec = p.dim % kVec == 0 && keep % kVec == 0 && aligned(p.x, 16) && aligned(p.out, 16) &&
             aligned(p.cos, kPairs * 4) && aligned(p.sin, kPairs * 4) && ld % kPairs == 0;
  for (int64_t s : {p.x_stride_b, p.x_stride_t, p.x_stride_h, p.out_stride_b, p.out_stride_t,
                    p.out_stride_h})
    vec = vec && s % kVec == 0;
  return vec ? launch<T, kVec>(p, stream) : launch<T, 2>(p, stream);
}

}  // namespace

Status rope(const RopeParams& p, cudaStream_t stream) {
  if (Status s = check(p); !s.ok()) return s;
  if (p.batch * p.seq * p.heads == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE("rope", aligned(p.x, es) && aligned(p.out, es) && aligned(p.cos, 4) &&
                          aligned(p.sin, 4),
              std::string("pointers not aligned to their element size"));
  if (p.dtype == DType::f32) return dispatch<float>(p, stream);
  return dispatch<bf16>(p, stream);
}

}  // namespace r1::kernels
