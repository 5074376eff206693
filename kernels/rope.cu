// Rotary embedding, interleaved pairs (contract in rope.h). One thread per 16 bytes of a head's
// rotated part (8 bf16 or 4 fp32 elements) with the matching 4 or 2 (cos, sin) pairs, which
// stay in L1 / L2 across batch and heads; one pair per thread when strides or pointers do not
// allow 16-byte accesses.
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
  const T* x = a.x + b * a.sxb + t * a.sxt + h * a.sxh + u * kVec;
  T* o = a.out + b * a.sob + t * a.sot + h * a.soh + u * kVec;
  const int64_t ti = t * a.ld + u * kPairs;

  Pack<T, kVec> xv;
  Pack<float, kPairs> cv, sv;
  if constexpr (kVec == 2) {
    xv.v[0] = x[0];
    xv.v[1] = x[1];
    cv.v[0] = a.cos[ti];
    sv.v[0] = a.sin[ti];
  } else {
    xv = load_pack<T, kVec>(x);
    cv = load_pack<float, kPairs>(a.cos + ti);
    sv = load_pack<float, kPairs>(a.sin + ti);
  }
  Pack<T, kVec> ov;
#pragma unroll
  for (int i = 0; i < kPairs; ++i) {
    const float x0 = to_float(xv.v[2 * i]), x1 = to_float(xv.v[2 * i + 1]);
    const float c = cv.v[i], s = a.sign * sv.v[i];
    ov.v[2 * i] = from_float<T>(x0 * c - x1 * s);
    ov.v[2 * i + 1] = from_float<T>(x0 * s + x1 * c);
  }
  if constexpr (kVec == 2) {
    o[0] = ov.v[0];
    o[1] = ov.v[1];
  } else {
    store_pack<T, kVec>(o, ov);
  }
}

template <typename T, int kVec>
Status launch(const RopeParams& p, cudaStream_t stream) {
  const int64_t units = p.dim / kVec;
  const int64_t total = p.batch * p.seq * p.heads * units;
  RopeArgs<T> a{static_cast<const T*>(p.x), static_cast<T*>(p.out), p.cos, p.sin,
                p.x_stride_b, p.x_stride_t, p.x_stride_h, p.out_stride_b, p.out_stride_t,
                p.out_stride_h, p.ld_table ? p.ld_table : p.dim / 2,
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
  bool vec = p.dim % kVec == 0 && aligned(p.x, 16) && aligned(p.out, 16) &&
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
