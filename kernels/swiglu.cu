// SwiGLU gate (contract in swiglu.h). One thread per 16 bytes of a row (8 bf16 or 4 fp32
// elements), grid-stride; one element per thread where sizes, strides or pointers do not allow
// 16-byte accesses. σ(a) on the special-function unit: 1 / (1 + 2^(−a·log2 e)).
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"
#include "kernels/swiglu.h"

#include <algorithm>

namespace r1::kernels {
namespace {

using namespace dev;

constexpr int kThreads = 256;

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + fast_exp2(-x * kLog2e)); }

template <typename T>
struct FwdArgs {
  const T* a;
  const T* b;
  T* h;
  int64_t la, lb, lh, units_per_row, total;
};

template <typename T>
struct BwdArgs {
  const T* dh;
  const T* a;
  const T* b;
  T* da;
  T* db;
  int64_t ld, la, lb, lda, ldb, units_per_row, total;
};

template <typename T, int kVec>
__device__ __forceinline__ Pack<T, kVec> load(const T* p) {
  if constexpr (kVec == 1) {
    Pack<T, 1> v;
    v.v[0] = *p;
    return v;
  } else {
    return load_pack<T, kVec>(p);
  }
}

template <typename T, int kVec>
__device__ __forceinline__ void store(T* p, const Pack<T, kVec>& v) {
  if constexpr (kVec == 1) {
    *p = v.v[0];
  } else {
    store_pack<T, kVec>(p, v);
  }
}

template <typename T, int kVec>
__global__ void __launch_bounds__(kThreads) swiglu_fwd_kernel(const FwdArgs<T> g) {
  for (int64_t i = blockIdx.x * int64_t(kThreads) + threadIdx.x; i < g.total;
       i += int64_t(gridDim.x) * kThreads) {
    const int64_t r = i / g.units_per_row, c = (i % g.units_per_row) * kVec;
    const Pack<T, kVec> av = load<T, kVec>(g.a + r * g.la + c);
    const Pack<T, kVec> bv = load<T, kVec>(g.b + r * g.lb + c);
    Pack<T, kVec> hv;
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      const float a = to_float(av.v[e]);
      hv.v[e] = from_float<T>(a * sigmoid(a) * to_float(bv.v[e]));
    }
    store<T, kVec>(g.h + r * g.lh + c, hv);
  }
}

template <typename T, int kVec>
__global__ void __launch_bounds__(kThreads) swiglu_bwd_kernel(const BwdArgs<T> g) {
  for (int64_t i = blockIdx.x * int64_t(kThreads) + threadIdx.x; i < g.total;
       i += int64_t(gridDim.x) * kThreads) {
    const int64_t r = i / g.units_per_row, c = (i % g.units_per_row) * kVec;
    const Pack<T, kVec> gv = load<T, kVec>(g.dh + r * g.ld + c);
    const Pack<T, kVec> av = load<T, kVec>(g.a + r * g.la + c);
    const Pack<T, kVec> bv = load<T, kVec>(g.b + r * g.lb + c);
    Pack<T, kVec> dav, dbv;
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      const float d = to_float(gv.v[e]), a = to_float(av.v[e]), b = to_float(bv.v[e]);
      const float s = sigmoid(a);
      dav.v[e] = from_float<T>(d * b * s * (1.f + a * (1.f - s)));
      dbv.v[e] = from_float<T>(d * a * s);
    }
    store<T, kVec>(g.da + r * g.lda + c, dav);
    store<T, kVec>(g.db + r * g.ldb + c, dbv);
  }
}

unsigned blocks_for(int64_t total) {
  return static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, 132 * 32));
}

bool vectorizable(int64_t dim, int vec, std::initializer_list<int64_t> lds,
                  std::initializer_list<const void*> ptrs) {
  if (dim % vec) return false;
  for (int64_t ld : lds)
    if (ld % vec) return false;
  for (const void* q : ptrs)
    if (!aligned(q, 16)) return false;
  return true;
}

template <typename T, int kVec>
Status fwd(const SwigluParams& p, cudaStream_t stream) {
  const int64_t D = p.dim, upr = D / kVec;
  FwdArgs<T> g{static_cast<const T*>(p.a), static_cast<const T*>(p.b), static_cast<T*>(p.h),
               p.ld_a ? p.ld_a : D, p.ld_b ? p.ld_b : D, p.ld_h ? p.ld_h : D, upr,
               p.n_rows * upr};
  auto kernel = swiglu_fwd_kernel<T, kVec>;
  R1K_LAUNCH(kernel, blocks_for(g.total), kThreads, 0, stream, g);
  R1K_LAUNCH_CHECK("swiglu_forward");
  return {};
}

template <typename T, int kVec>
Status bwd(const SwigluBackwardParams& p, cudaStream_t stream) {
  const int64_t D = p.dim, upr = D / kVec;
  BwdArgs<T> g{static_cast<const T*>(p.dh), static_cast<const T*>(p.a),
               static_cast<const T*>(p.b), static_cast<T*>(p.da), static_cast<T*>(p.db),
               p.ld_dh ? p.ld_dh : D, p.ld_a ? p.ld_a : D, p.ld_b ? p.ld_b : D,
               p.ld_da ? p.ld_da : D, p.ld_db ? p.ld_db : D, upr, p.n_rows * upr};
  auto kernel = swiglu_bwd_kernel<T, kVec>;
  R1K_LAUNCH(kernel, blocks_for(g.total), kThreads, 0, stream, g);
  R1K_LAUNCH_CHECK("swiglu_backward");
  return {};
}

}  // namespace

Status swiglu_forward(const SwigluParams& p, cudaStream_t stream) {
  const char* w = "swiglu_forward";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_rows * p.dim == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.a, es) && aligned(p.b, es) && aligned(p.h, es),
              std::string("a / b / h not aligned to their element size"));
  const int64_t D = p.dim;
  const int vec = 16 / es;
  const bool v = vectorizable(D, vec, {p.ld_a ? p.ld_a : D, p.ld_b ? p.ld_b : D, p.ld_h ? p.ld_h : D},
                              {p.a, p.b, p.h});
  if (p.dtype == DType::f32) return v ? fwd<float, 4>(p, stream) : fwd<float, 1>(p, stream);
  return v ? fwd<bf16, 8>(p, stream) : fwd<bf16, 1>(p, stream);
}

Status swiglu_backward(const SwigluBackwardParams& p, cudaStream_t stream) {
  const char* w = "swiglu_backward";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_rows * p.dim == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.dh, es) && aligned(p.a, es) && aligned(p.b, es) &&
                     aligned(p.da, es) && aligned(p.db, es),
              std::string("dh / a / b / da / db not aligned to their element size"));
  const int64_t D = p.dim;
  const int vec = 16 / es;
  const bool v = vectorizable(D, vec,
                              {p.ld_dh ? p.ld_dh : D, p.ld_a ? p.ld_a : D, p.ld_b ? p.ld_b : D,
                               p.ld_da ? p.ld_da : D, p.ld_db ? p.ld_db : D},
                              {p.dh, p.a, p.b, p.da, p.db});
  if (p.dtype == DType::f32) return v ? bwd<float, 4>(p, stream) : bwd<float, 1>(p, stream);
  return v ? bwd<bf16, 8>(p, stream) : bwd<bf16, 1>(p, stream);
}

}  // namespace r1::kernels
