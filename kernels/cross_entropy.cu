// Softmax cross-entropy with label smoothing (contract in cross_entropy.h).
//
// One group of G threads per row: a warp for vocab <= 1024, a block of 256 up to 8192, a block
// of 512 above (at <= 64 registers, two rows per SM: one row's reduction and tail overlap the
// other's loads; a 32k-vocabulary bf16 row is 8 16-byte loads per thread, issued 4 at a time).
// Pass 1 reads the row once with plain loads, keeping an online (max, sum exp), the sum of the
// logits and the target's logit; one group reduction; pass 2 (when a gradient is wanted) reads
// the row again with evict-first loads - it is still in L2: the rows in flight take
// 132 SMs x 2 x 64 KB = 17 MB of the H200's 60 MB - and writes the gradient with evict-first
// stores. Every thread reads and writes only the elements it owns (same loop in both passes),
// so the gradient may overwrite the logits in place. exp() runs on the SFU as ex2.approx:
// two per element, within its throughput at the copy bandwidth.
#include "kernels/cross_entropy.h"
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"

#include <cfloat>

namespace r1::kernels {
namespace {

using namespace dev;

template <typename T, typename Tgt>
struct CeArgs {
  const T* logits;
  T* grad;
  const Tgt* targets;
  float* loss;
  float* lse;
  const float* grad_scale_dev;
  int64_t n_rows, ld, ld_grad, ignore_index;
  int V;
  float smoothing, grad_scale;
};

// One thread's share of a row: m = max seen (-FLT_MAX before any; finite, so that m - M never
// makes inf - inf), s = sum exp(x - m), sx = sum x, xt = the target's logit (0 unless this
// thread owns the target).
struct Partial {
  float m, s, sx, xt;
};

__device__ __forceinline__ Partial combine(const Partial& a, const Partial& b) {
  const float M = fmaxf(a.m, b.m);
  return {M, a.s * fast_exp2((a.m - M) * kLog2e) + b.s * fast_exp2((b.m - M) * kLog2e),
          a.sx + b.sx, a.xt + b.xt};
}

__device__ __forceinline__ Partial warp_combine(Partial p) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    Partial q{__shfl_xor_sync(0xffffffffu, p.m, o), __shfl_xor_sync(0xffffffffu, p.s, o),
              __shfl_xor_sync(0xffffffffu, p.sx, o), __shfl_xor_sync(0xffffffffu, p.xt, o)};
    p = combine(p, q);
  }
  return p;
}

// Reduction over the G threads of a row; G is 32 or the whole block. Every thread gets it.
template <int G>
__device__ __forceinline__ Partial group_combine(Partial p, float (*smem)[32]) {
  p = warp_combine(p);
  if constexpr (G > 32) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) {
      smem[0][warp] = p.m;
      smem[1][warp] = p.s;
      smem[2][warp] = p.sx;
      smem[3][warp] = p.xt;
    }
    __syncthreads();
    p = lane < G / 32 ? Partial{smem[0][lane], smem[1][lane], smem[2][lane], smem[3][lane]}
                      : Partial{-FLT_MAX, 0.f, 0.f, 0.f};
    p = warp_combine(p);
  }
  return p;
}

__device__ __forceinline__ void add_one(Partial& st, float x) {
  if (x > st.m) {
    st.s *= fast_exp2((st.m - x) * kLog2e);
    st.m = x;
  }
  st.s += fast_exp2((x - st.m) * kLog2e);
  st.sx += x;
}

// Visits the elements of one row that thread t of G owns: scalar head up to the first 16-byte
// boundary, 16-byte packs (U loads issued before the first use), scalar tail. on_one(j, x) and
// on_pack(j0, pack) get the element index of what they see. kLast: the loads are the row's last.
template <int G, int U, bool kLast, typename T, typename OnOne, typename OnPack>
__device__ __forceinline__ void visit_row(const T* x, int V, int head, int t, OnOne on_one,
                                          OnPack on_pack) {
  constexpr int kVec = 16 / sizeof(T);
  const int nvec = (V - head) / kVec;
  for (int j = t; j < head; j += G) on_one(j, to_float(x[j]));
  const T* body = x + head;
  int v = t;
  for (; v + (U - 1) * G < nvec; v += U * G) {
    Pack<T, kVec> pk[U];
#pragma unroll
    for (int u = 0; u < U; ++u)
      pk[u] = kLast ? load_pack_last<T, kVec>(body + (v + u * G) * kVec)
                    : load_pack<T, kVec>(body + (v + u * G) * kVec);
#pragma unroll
    for (int u = 0; u < U; ++u) on_pack(head + (v + u * G) * kVec, pk[u]);
  }
  for (; v < nvec; v += G)
    on_pack(head + v * kVec, kLast ? load_pack_last<T, kVec>(body + v * kVec)
                                   : load_pack<T, kVec>(body + v * kVec));
  for (int j = head + nvec * kVec + t; j < V; j += G) on_one(j, to_float(x[j]));
}

// Elements before the first 16-byte boundary of p (at most V).
template <typename T>
__device__ __forceinline__ int head_of(const T* p, int V) {
  const unsigned mis = static_cast<unsigned>(reinterpret_cast<uintptr_t>(p) & 15u);
  return min(V, static_cast<int>(((16u - mis) & 15u) / sizeof(T)));
}

template <int G, typename T>
__device__ void zero_row(T* g, int V, int t) {
  constexpr int kVec = 16 / sizeof(T);
  const int head = head_of(g, V);
  const int nvec = (V - head) / kVec;
  const T zero = from_float<T>(0.f);
  Pack<T, kVec> z;
#pragma unroll
  for (int e = 0; e < kVec; ++e) z.v[e] = zero;
  for (int j = t; j < head; j += G) g[j] = zero;
  for (int v = t; v < nvec; v += G) store_pack<T, kVec>(g + head + v * kVec, z);
  for (int j = head + nvec * kVec + t; j < V; j += G) g[j] = zero;
}

template <typename T, typename Tgt, int G, int kBlock>
__global__ void __launch_bounds__(kBlock, 1024 / kBlock)
    cross_entropy_kernel(const CeArgs<T, Tgt> a) {
  static_assert(G == 32 || G == kBlock, "a warp per row, or a block per row");
  constexpr int kRows = kBlock / G;
  constexpr int kVec = 16 / sizeof(T);
  constexpr int U = 4;
  __shared__ float smem[4][32];

  const int t = threadIdx.x % G;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x / G;
  if (row >= a.n_rows) return;  // the whole group leaves together (see static_assert)

  const int V = a.V;
  const T* x = a.logits + row * a.ld;
  T* g = a.grad ? a.grad + row * a.ld_grad : nullptr;
  const int64_t tg = static_cast<int64_t>(a.targets[row]);
  if (tg == a.ignore_index) {
    if (t == 0) {
      if (a.loss) a.loss[row] = 0.f;
      if (a.lse) a.lse[row] = 0.f;
    }
    if (g) zero_row<G>(g, V, t);
    return;
  }
  const bool bad = tg < 0 || tg >= V;
  const int tgt = bad ? -1 : static_cast<int>(tg);

  // Packs need x and g at the same offset from a 16-byte boundary; otherwise all scalar.
  int head = head_of(x, V);
  if (g && (reinterpret_cast<uintptr_t>(g) & 15u) != (reinterpret_cast<uintptr_t>(x) & 15u))
    head = V;

  // Pass 1: online max / sum exp, sum x, target logit. Twice pass 2's loads in flight: a
  // 32k-vocabulary bf16 row is then one round of 8 loads a thread (4 at a time: 77 % of copy
  // bandwidth forward only on an H200, where pass 1 is the whole kernel).
  Partial st{-FLT_MAX, 0.f, 0.f, 0.f};
  visit_row<G, 2 * U, false>(
      x, V, head, t,
      [&](int j, float xj) {
        add_one(st, xj);
        if (j == tgt) st.xt = xj;
      },
      [&](int j0, const Pack<T, kVec>& pk) {
        float xv[kVec];
        float vmax = -FLT_MAX;
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          xv[e] = to_float(pk.v[e]);
          vmax = fmaxf(vmax, xv[e]);
        }
        if (vmax > st.m) {
          st.s *= fast_exp2((st.m - vmax) * kLog2e);
          st.m = vmax;
        }
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          st.s += fast_exp2((xv[e] - st.m) * kLog2e);
          st.sx += xv[e];
        }
        if (static_cast<unsigned>(tgt - j0) < static_cast<unsigned>(kVec)) {
#pragma unroll
          for (int e = 0; e < kVec; ++e)
            if (j0 + e == tgt) st.xt = xv[e];
        }
      });
  st = group_combine<G>(st, smem);
  const float lse = st.m + logf(st.s);
  if (t == 0) {
    const float e = a.smoothing;
    float loss = (1.f - e) * (lse - st.xt) + e * (lse - st.sx / static_cast<float>(V));
    if (bad) loss = __int_as_float(0x7fc00000);
    if (a.loss) a.loss[row] = loss;
    if (a.lse) a.lse[row] = lse;
  }
  if (!g) return;

  // Pass 2: dx = (p - e/V) * scale - (1 - e) * scale at the target.
  float scale = a.grad_scale * (a.grad_scale_dev ? *a.grad_scale_dev : 1.f);
  if (bad) scale = __int_as_float(0x7fc00000);
  const float off = a.smoothing / static_cast<float>(V) * scale;
  const float at_target = (1.f - a.smoothing) * scale;
  visit_row<G, U, true>(
      x, V, head, t,
      [&](int j, float xj) {
        float d = fast_exp2((xj - lse) * kLog2e) * scale - off;
        if (j == tgt) d -= at_target;
        g[j] = from_float<T>(d);
      },
      [&](int j0, const Pack<T, kVec>& pk) {
        Pack<T, kVec> out;
        float d[kVec];
#pragma unroll
        for (int e = 0; e < kVec; ++e)
          d[e] = fast_exp2((to_float(pk.v[e]) - lse) * kLog2e) * scale - off;
        if (static_cast<unsigned>(tgt - j0) < static_cast<unsigned>(kVec)) {
#pragma unroll
          for (int e = 0; e < kVec; ++e)
            if (j0 + e == tgt) d[e] -= at_target;
        }
#pragma unroll
        for (int e = 0; e < kVec; ++e) out.v[e] = from_float<T>(d[e]);
        store_pack_last<T, kVec>(g + j0, out);
      });
}

template <typename Tgt>
__global__ void __launch_bounds__(1024)
    mean_scale_kernel(const Tgt* targets, int64_t n, int64_t ignore_index, float grad_out,
                      const float* grad_out_dev, float* scale_out, int32_t* n_valid_out) {
  __shared__ int smem[32];
  int c = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    c += static_cast<int64_t>(targets[i]) != ignore_index;
  c = warp_sum(c);
  if (threadIdx.x % 32 == 0) smem[threadIdx.x / 32] = c;
  __syncthreads();
  if (threadIdx.x < 32) {
    c = threadIdx.x < blockDim.x / 32 ? smem[threadIdx.x] : 0;
    c = warp_sum(c);
    if (threadIdx.x == 0) {
      const float go = grad_out * (grad_out_dev ? *grad_out_dev : 1.f);
      *scale_out = c > 0 ? go / static_cast<float>(c) : 0.f;
      if (n_valid_out) *n_valid_out = c;
    }
  }
}

template <typename T, typename Tgt, int G, int kBlock>
Status launch(const CrossEntropyParams& p, cudaStream_t stream) {
  CeArgs<T, Tgt> a;
  a.logits = static_cast<const T*>(p.logits);
  a.grad = static_cast<T*>(p.dlogits);
  a.targets = static_cast<const Tgt*>(p.targets);
  a.loss = p.loss;
  a.lse = p.lse;
  a.grad_scale_dev = p.grad_scale_dev;
  a.n_rows = p.n_rows;
  a.ld = p.ld_logits ? p.ld_logits : p.vocab;
  a.ld_grad = p.ld_dlogits ? p.ld_dlogits : p.vocab;
  a.ignore_index = p.ignore_index;
  a.V = static_cast<int>(p.vocab);
  a.smoothing = p.smoothing;
  a.grad_scale = p.grad_scale;
  constexpr int kRows = kBlock / G;
  const int64_t blocks = (p.n_rows + kRows - 1) / kRows;
  auto kernel = cross_entropy_kernel<T, Tgt, G, kBlock>;
  R1K_LAUNCH(kernel, static_cast<unsigned>(blocks), kBlock, 0, stream, a);
  R1K_LAUNCH_CHECK("cross_entropy");
  return {};
}

template <typename T, typename Tgt>
Status dispatch_size(const CrossEntropyParams& p, cudaStream_t stream) {
  if (p.vocab <= 1024) return launch<T, Tgt, 32, 256>(p, stream);
  if (p.vocab <= 8192) return launch<T, Tgt, 256, 256>(p, stream);
  return launch<T, Tgt, 512, 512>(p, stream);
}

template <typename T>
Status dispatch_target(const CrossEntropyParams& p, cudaStream_t stream) {
  if (p.target_type == IndexType::i32) return dispatch_size<T, int32_t>(p, stream);
  return dispatch_size<T, int64_t>(p, stream);
}

}  // namespace

Status cross_entropy(const CrossEntropyParams& p, cudaStream_t stream) {
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_rows == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE("cross_entropy", aligned(p.logits, es) && (!p.dlogits || aligned(p.dlogits, es)),
              std::string("logits / dlogits not aligned to their element size"));
  if (p.dtype == DType::f32) return dispatch_target<float>(p, stream);
  return dispatch_target<bf16>(p, stream);
}

Status cross_entropy_mean_scale(const void* targets, IndexType target_type, int64_t n_rows,
                                int64_t ignore_index, float grad_out, const float* grad_out_dev,
                                float* scale_out, int32_t* n_valid_out, cudaStream_t stream) {
  const char* w = "cross_entropy_mean_scale";
  R1K_REQUIRE(w, scale_out, std::string("scale_out is null"));
  R1K_REQUIRE(w, n_rows >= 0 && n_rows <= INT32_MAX, "n_rows = " + std::to_string(n_rows));
  R1K_REQUIRE(w, n_rows == 0 || targets, std::string("targets is null"));
  if (target_type == IndexType::i32) {
    auto kernel = mean_scale_kernel<int32_t>;
    R1K_LAUNCH(kernel, 1, 1024, 0, stream, static_cast<const int32_t*>(targets), n_rows,
               ignore_index, grad_out, grad_out_dev, scale_out, n_valid_out);
  } else {
    auto kernel = mean_scale_kernel<int64_t>;
    R1K_LAUNCH(kernel, 1, 1024, 0, stream, static_cast<const int64_t*>(targets), n_rows,
               ignore_index, grad_out, grad_out_dev, scale_out, n_valid_out);
  }
  R1K_LAUNCH_CHECK(w);
  return {};
}

}  // namespace r1::kernels
