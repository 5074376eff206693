// MoE token permutation (contract in moe_permute.h).
//
// Plan, a stable counting sort of the P pairs by expert in three small kernels, no atomics:
//   A  one block per chunk of 256 pairs: each pair's rank among the chunk's earlier pairs of
//      the same expert (through shared memory), and the chunk's per-expert counts
//   B  one block: per expert (a warp each), the exclusive scan of those counts over the
//      chunks, and the expert's count; offsets (a block scan over experts)
//   C  per pair: position = offsets[e] + chunk base[e] + rank; pair_of[position] = pair
// Gather / combine / weight gradient: one warp per row (token or pair), 16-byte packs where
// dim, strides and pointers allow, fp32 accumulation in slot order.
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"
#include "kernels/moe_permute.h"

#include <algorithm>
#include <initializer_list>

namespace r1::kernels {
namespace {

using namespace dev;

constexpr int kChunk = 256;
constexpr int kMaxK = 8;
constexpr int kWarps = 8;
constexpr int kRowWarps = 4;  // combine and its weight gradient: faster than 8 or 16 (H200)

struct PlanArgs {
  int32_t* hist;  // [chunks, E]
  int32_t* base;  // [chunks, E]
  int32_t* rank;  // [P]
  int32_t* counts;
  int32_t* offsets;
  int32_t* position;
  int32_t* pair_of;
  int64_t P;
  int E, chunks;
};

template <typename Idx>
__device__ __forceinline__ int expert_of(const Idx* idx, int64_t q, int64_t P, int E) {
  if (q >= P) return -1;
  const int64_t e = static_cast<int64_t>(idx[q]);
  return e >= 0 && e < E ? static_cast<int>(e) : -1;
}

template <typename Idx>
__global__ void __launch_bounds__(kChunk) plan_rank_kernel(const Idx* idx, const PlanArgs a) {
  __shared__ int ex[kChunk];
  const int t = threadIdx.x;
  const int64_t q = static_cast<int64_t>(blockIdx.x) * kChunk + t;
  const int e = expert_of(idx, q, a.P, a.E);
  ex[t] = e;
  int32_t* hist = a.hist + static_cast<int64_t>(blockIdx.x) * a.E;
  for (int c = t; c < a.E; c += kChunk) hist[c] = 0;
  __syncthreads();
  if (e < 0) return;
  int before = 0, after = 0;
  for (int u = 0; u < t; ++u) before += ex[u] == e;
  for (int u = t + 1; u < kChunk; ++u) after += ex[u] == e;
  a.rank[q] = before;
  if (after == 0) hist[e] = before + 1;  // the chunk's last pair of expert e
}

__device__ __forceinline__ int32_t warp_inclusive_scan(int32_t v, int lane) {
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const int32_t n = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o) v += n;
  }
  return v;
}

// One block of 1024: a warp per expert scans that expert's chunk counts 32 chunks at a time;
// then the block scans the expert counts (4 experts per thread, E <= 4096) into offsets.
__global__ void __launch_bounds__(1024) plan_scan_kernel(const PlanArgs a) {
  __shared__ int32_t wsum[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int e = warp; e < a.E; e += 32) {
    int32_t run = 0;
    for (int c0 = 0; c0 < a.chunks; c0 += 32) {
      const int c = c0 + lane;
      const int32_t h = c < a.chunks ? a.hist[static_cast<int64_t>(c) * a.E + e] : 0;
      const int32_t incl = warp_inclusive_scan(h, lane);
      if (c < a.chunks) a.base[static_cast<int64_t>(c) * a.E + e] = run + incl - h;
      run += __shfl_sync(0xffffffffu, incl, 31);
    }
    if (lane == 0) a.counts[e] = run;
  }
  __syncthreads();
  int32_t local[4], sum = 0;
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    const int e = threadIdx.x * 4 + q;
    local[q] = e < a.E ? a.counts[e] : 0;
    sum += local[q];
  }
  const int32_t incl = warp_inclusive_scan(sum, lane);
  if (lane == 31) wsum[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    const int32_t v = wsum[lane];
    wsum[lane] = warp_inclusive_scan(v, lane) - v;  // exclusive, per warp
  }
  __syncthreads();
  int32_t excl = wsum[warp] + incl - sum;
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    const int e = threadIdx.x * 4 + q;
    if (e < a.E) a.offsets[e] = excl;
    excl += local[q];
    if (e == a.E - 1) a.offsets[a.E] = excl;
  }
}

template <typename Idx>
__global__ void __launch_bounds__(256) plan_place_kernel(const Idx* idx, const PlanArgs a) {
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < a.P;
       q += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int e = expert_of(idx, q, a.P, a.E);
    if (e < 0) {
      a.position[q] = -1;
      continue;
    }
    const int32_t pos = a.offsets[e] + a.base[(q / kChunk) * a.E + e] + a.rank[q];
    a.position[q] = pos;
    a.pair_of[pos] = static_cast<int32_t>(q);
  }
}

template <typename T>
struct GatherArgs {
  const T* x;
  const int32_t* pair_of;
  const float* w;
  T* rows;
  int64_t n_rows, ld_x, ld_rows;
  int top_k, dim;
};

template <typename T, int kVec>
__global__ void __launch_bounds__(kWarps * 32) gather_kernel(const GatherArgs<T> a) {
  const int lane = threadIdx.x % 32;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= a.n_rows) return;
  const int nvec = a.dim / kVec;
  T* out = a.rows + r * a.ld_rows;
  const int32_t q = a.pair_of[r];
  if (q < 0) {
    Pack<T, kVec> z;
#pragma unroll
    for (int e = 0; e < kVec; ++e) z.v[e] = from_float<T>(0.f);
    for (int v = lane; v < nvec; v += 32) store_pack<T, kVec>(out + v * kVec, z);
    return;
  }
  const T* src = a.x + static_cast<int64_t>(q / a.top_k) * a.ld_x;
  const float w = a.w ? a.w[q] : 1.f;
  for (int v = lane; v < nvec; v += 32) {
    Pack<T, kVec> pk = load_pack<T, kVec>(src + v * kVec);
    if (a.w) {
#pragma unroll
      for (int e = 0; e < kVec; ++e) pk.v[e] = from_float<T>(to_float(pk.v[e]) * w);
    }
    store_pack<T, kVec>(out + v * kVec, pk);
  }
}

// Each row of `rows` is read once by combine and each row of y written once: evict-first
// (streaming) accesses where packs are 16 bytes, so they do not push out of L2 what is reused.
template <typename T, int kVec>
__device__ __forceinline__ Pack<T, kVec> load_once(const T* p) {
  if constexpr (sizeof(T) * kVec == 16) return load_pack_last<T, kVec>(p);
  else return load_pack<T, kVec>(p);
}
template <typename T, int kVec>
__device__ __forceinline__ void store_once(T* p, const Pack<T, kVec>& v) {
  if constexpr (sizeof(T) * kVec == 16) store_pack_last<T, kVec>(p, v);
  else store_pack<T, kVec>(p, v);
}

template <typename T>
struct CombineArgs {
  const T* rows;
  const int32_t* position;
  const float* w;
  T* y;
  const T* dy;    // weight gradient: dy
  float* dw;      // weight gradient: out
  int64_t n_tokens, ld_rows, ld_y;
  int top_k, dim;
  bool accumulate;
};

template <typename T, int kVec>
__global__ void __launch_bounds__(kRowWarps * 32) combine_kernel(const CombineArgs<T> a) {
  const int lane = threadIdx.x % 32;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32;
  if (t >= a.n_tokens) return;
  const int nvec = a.dim / kVec;
  int32_t pos[kMaxK];
  float w[kMaxK];
#pragma unroll
  for (int j = 0; j < kMaxK; ++j) {
    pos[j] = -1;
    w[j] = 0.f;
    if (j < a.top_k) {
      pos[j] = a.position[t * a.top_k + j];
      w[j] = a.w ? a.w[t * a.top_k + j] : 1.f;
    }
  }
  // Two slots' packs loaded together, one pack a lane at a time: a 768-wide bf16 row of the
  // top-2 case is three rounds of two loads. Measured on an H200 (scratch variants, 32768 tokens):
  // more packs a lane per round cost registers and occupancy and ran slower (44-70 % of copy
  // bandwidth against 77 % for this, with 4 warps a block). Slots are still added in order.
  T* y = a.y + t * a.ld_y;
  for (int v = lane; v < nvec; v += 32) {
    float acc[kVec];
    if (a.accumulate) {
      const Pack<T, kVec> old = load_pack<T, kVec>(y + v * kVec);
#pragma unroll
      for (int e = 0; e < kVec; ++e) acc[e] = to_float(old.v[e]);
    } else {
#pragma unroll
      for (int e = 0; e < kVec; ++e) acc[e] = 0.f;
    }
#pragma unroll
    for (int j = 0; j < kMaxK; j += 2) {
      if (pos[j] < 0 && pos[j + 1] < 0) continue;
      Pack<T, kVec> r0, r1;
      if (pos[j] >= 0) r0 = load_once<T, kVec>(a.rows + pos[j] * a.ld_rows + v * kVec);
      if (pos[j + 1] >= 0) r1 = load_once<T, kVec>(a.rows + pos[j + 1] * a.ld_rows + v * kVec);
      if (pos[j] >= 0) {
#pragma unroll
        for (int e = 0; e < kVec; ++e) acc[e] = fmaf(w[j], to_float(r0.v[e]), acc[e]);
      }
      if (pos[j + 1] >= 0) {
#pragma unroll
        for (int e = 0; e < kVec; ++e) acc[e] = fmaf(w[j + 1], to_float(r1.v[e]), acc[e]);
      }
    }
    Pack<T, kVec> o;
#pragma unroll
    for (int e = 0; e < kVec; ++e) o.v[e] = from_float<T>(acc[e]);
    store_once<T, kVec>(y + v * kVec, o);
  }
}

// One warp per pair: dw[q] = dot(dy[q / top_k], rows[position[q]]).
template <typename T, int kVec>
__global__ void __launch_bounds__(kRowWarps * 32) weight_grad_kernel(const CombineArgs<T> a) {
  const int lane = threadIdx.x % 32;
  const int64_t q = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32;
  if (q >= a.n_tokens * a.top_k) return;
  const int32_t row = a.position[q];
  float d = 0.f;
  if (row >= 0) {
    const T* g = a.dy + (q / a.top_k) * a.ld_y;
    const T* r = a.rows + row * a.ld_rows;
    for (int v = lane; v < a.dim / kVec; v += 32) {
      const Pack<T, kVec> gv = load_pack<T, kVec>(g + v * kVec);
      const Pack<T, kVec> rv = load_pack<T, kVec>(r + v * kVec);
#pragma unroll
      for (int e = 0; e < kVec; ++e) d = fmaf(to_float(gv.v[e]), to_float(rv.v[e]), d);
    }
  }
  d = warp_sum(d);
  if (lane == 0) a.dw[q] = d;
}

bool packable(int64_t dim, int es, std::initializer_list<int64_t> lds,
              std::initializer_list<const void*> ptrs) {
  const int vec = 16 / es;
  if (dim % vec) return false;
  for (int64_t ld : lds)
    if (ld % vec) return false;
  for (const void* q : ptrs)
    if (q && !aligned(q, 16)) return false;
  return true;
}

// One warp per item (row, token or pair), `warps` a block (the kernel's own constant).
template <typename Args>
Status launch_rows(const char* w, void (*kernel)(Args), const Args& a, int64_t items,
                   cudaStream_t stream, int warps = kWarps) {
  const unsigned blocks = static_cast<unsigned>((items + warps - 1) / warps);
  R1K_LAUNCH(kernel, blocks, warps * 32, 0, stream, a);
  R1K_LAUNCH_CHECK(w);
  return {};
}

template <typename Idx>
Status plan(const MoePermutePlanParams& p, cudaStream_t stream) {
  const char* w = "moe_permute_plan";
  const int64_t P = p.n_tokens * p.top_k;
  const int chunks = static_cast<int>((P + kChunk - 1) / kChunk);
  int32_t* ws = static_cast<int32_t*>(p.workspace);
  const PlanArgs a{ws, ws + static_cast<int64_t>(chunks) * p.n_experts,
                   ws + 2 * static_cast<int64_t>(chunks) * p.n_experts, p.counts, p.offsets,
                   p.position, p.pair_of, P, p.n_experts, chunks};
  const Idx* idx = static_cast<const Idx*>(p.indices);
  R1K_CUDA_TRY(w, cudaMemsetAsync(p.pair_of, 0xFF, P * sizeof(int32_t), stream));  // -1
  auto rank = plan_rank_kernel<Idx>;
  R1K_LAUNCH(rank, chunks, kChunk, 0, stream, idx, a);
  R1K_LAUNCH_CHECK(w);
  auto scan = plan_scan_kernel;
  R1K_LAUNCH(scan, 1, 1024, 0, stream, a);
  R1K_LAUNCH_CHECK(w);
  auto place = plan_place_kernel<Idx>;
  R1K_LAUNCH(place, static_cast<unsigned>(std::min<int64_t>((P + 255) / 256, 4096)), 256, 0,
             stream, idx, a);
  R1K_LAUNCH_CHECK(w);
  return {};
}

}  // namespace

Status moe_permute_plan(const MoePermutePlanParams& p, cudaStream_t stream) {
  const char* w = "moe_permute_plan";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_tokens == 0) {
    R1K_CUDA_TRY(w, cudaMemsetAsync(p.counts, 0, p.n_experts * sizeof(int32_t), stream));
    R1K_CUDA_TRY(w, cudaMemsetAsync(p.offsets, 0, (p.n_experts + 1) * sizeof(int32_t), stream));
    return {};
  }
  R1K_REQUIRE(w, aligned(p.workspace, 4), std::string("workspace not 4-byte aligned"));
  return p.index_type == IndexType::i32 ? plan<int32_t>(p, stream) : plan<int64_t>(p, stream);
}

Status moe_gather(const MoeGatherParams& p, cudaStream_t stream) {
  const char* w = "moe_gather";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_rows == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.x, es) && aligned(p.rows, es),
              std::string("x / rows not aligned to their element size"));
  const int64_t D = p.dim, ldx = p.ld_x ? p.ld_x : D, ldr = p.ld_rows ? p.ld_rows : D;
  const bool vec = packable(D, es, {ldx, ldr}, {p.x, p.rows});
  if (p.dtype == DType::f32) {
    GatherArgs<float> a{static_cast<const float*>(p.x), p.pair_of, p.weights,
                        static_cast<float*>(p.rows), p.n_rows, ldx, ldr, p.top_k,
                        static_cast<int>(D)};
    return launch_rows(w, vec ? gather_kernel<float, 4> : gather_kernel<float, 1>, a, p.n_rows,
                       stream);
  }
  GatherArgs<bf16> a{static_cast<const bf16*>(p.x), p.pair_of, p.weights,
                     static_cast<bf16*>(p.rows), p.n_rows, ldx, ldr, p.top_k,
                     static_cast<int>(D)};
  return launch_rows(w, vec ? gather_kernel<bf16, 8> : gather_kernel<bf16, 1>, a, p.n_rows,
                     stream);
}

Status moe_combine(const MoeCombineParams& p, cudaStream_t stream) {
  const char* w = "moe_combine";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_tokens == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.rows, es) && aligned(p.y, es),
              std::string("rows / y not aligned to their element size"));
  const int64_t D = p.dim, ldr = p.ld_rows ? p.ld_rows : D, ldy = p.ld_y ? p.ld_y : D;
  const bool vec = packable(D, es, {ldr, ldy}, {p.rows, p.y});
  if (p.dtype == DType::f32) {
    CombineArgs<float> a{static_cast<const float*>(p.rows), p.position, p.weights,
                         static_cast<float*>(p.y), nullptr, nullptr, p.n_tokens, ldr, ldy,
                         p.top_k, static_cast<int>(D), p.accumulate};
    return launch_rows(w, vec ? combine_kernel<float, 4> : combine_kernel<float, 1>, a,
                       p.n_tokens, stream, kRowWarps);
  }
  CombineArgs<bf16> a{static_cast<const bf16*>(p.rows), p.position, p.weights,
                      static_cast<bf16*>(p.y), nullptr, nullptr, p.n_tokens, ldr, ldy,
                      p.top_k, static_cast<int>(D), p.accumulate};
  return launch_rows(w, vec ? combine_kernel<bf16, 8> : combine_kernel<bf16, 1>, a, p.n_tokens,
                     stream, kRowWarps);
}

Status moe_combine_weight_grad(const MoeCombineWeightGradParams& p, cudaStream_t stream) {
  const char* w = "moe_combine_weight_grad";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_tokens == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.rows, es) && aligned(p.dy, es),
              std::string("rows / dy not aligned to their element size"));
  const int64_t D = p.dim, ldr = p.ld_rows ? p.ld_rows : D, ldd = p.ld_dy ? p.ld_dy : D;
  const bool vec = packable(D, es, {ldr, ldd}, {p.rows, p.dy});
  if (p.dtype == DType::f32) {
    CombineArgs<float> a{static_cast<const float*>(p.rows), p.position, nullptr, nullptr,
                         static_cast<const float*>(p.dy), p.dweights, p.n_tokens, ldr, ldd,
                         p.top_k, static_cast<int>(D), false};
    return launch_rows(w, vec ? weight_grad_kernel<float, 4> : weight_grad_kernel<float, 1>, a,
                       p.n_tokens * p.top_k, stream, kRowWarps);
  }
  CombineArgs<bf16> a{static_cast<const bf16*>(p.rows), p.position, nullptr, nullptr,
                      static_cast<const bf16*>(p.dy), p.dweights, p.n_tokens, ldr, ldd,
                      p.top_k, static_cast<int>(D), false};
  return launch_rows(w, vec ? weight_grad_kernel<bf16, 8> : weight_grad_kernel<bf16, 1>, a,
                     p.n_tokens * p.top_k, stream, kRowWarps);
}

}  // namespace r1::kernels
