// MoE routing forward / backward (contract in moe_routing.h). One warp per token, 8 tokens per
// block; lane l holds experts l, l + 32, ... (up to 8 each, E <= 256). Group scores go through
// shared memory (a group's experts span lanes); the top-k is k rounds of a warp arg-max (ties:
// lower index) whose winner its owner lane then takes out.
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"
#include "kernels/moe_routing.h"

namespace r1::kernels {
namespace {

using namespace dev;

constexpr int kPerLane = 8;  // experts per lane: E <= 256
constexpr int kMaxK = 8;
constexpr int kWarps = 8;    // tokens per block
constexpr float kNegInf = -__builtin_huge_valf();

template <typename T, typename Idx>
struct RouteArgs {
  const T* logits;
  const float* bias;
  float* scores;
  float* weights;
  Idx* indices;
  int64_t n, ld;
  int E, K, G, topk_groups;
  float route_scale;
};

template <typename T, typename Idx>
struct RouteBwdArgs {
  const float* scores;
  const Idx* indices;
  const float* dw;
  const float* extra;
  T* dlogits;
  int64_t n, ld;
  int E, K;
  float route_scale;
};

// A candidate of an arg-max: value, expert (or group), its unbiased score.
struct Cand {
  float v;
  int e;
  float s;
};

// A strict total order (higher value, then lower index): the butterfly is commutative, so every
// lane ends with the same winner.
__device__ __forceinline__ Cand better(const Cand& a, const Cand& b) {
  return (a.v > b.v || (a.v == b.v && a.e < b.e)) ? a : b;
}

__device__ __forceinline__ Cand warp_best(Cand c) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const Cand d{__shfl_xor_sync(0xffffffffu, c.v, o), __shfl_xor_sync(0xffffffffu, c.e, o),
                 __shfl_xor_sync(0xffffffffu, c.s, o)};
    c = better(c, d);
  }
  return c;
}

template <typename T, typename Idx>
__global__ void __launch_bounds__(kWarps * 32) moe_routing_kernel(const RouteArgs<T, Idx> a) {
  __shared__ float sb[kWarps][kPerLane * 32];
  const int lane = threadIdx.x % 32, wi = threadIdx.x / 32;
  const int64_t tok = static_cast<int64_t>(blockIdx.x) * kWarps + wi;
  if (tok >= a.n) return;  // the whole warp
  const T* x = a.logits + tok * a.ld;

  float s[kPerLane], b[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + 32 * i;
    s[i] = 0.f;
    b[i] = kNegInf;
    if (e < a.E) {
      s[i] = 1.f / (1.f + expf(-to_float(x[e])));
      const float v = s[i] + (a.bias ? a.bias[e] : 0.f);
      b[i] = v == v ? v : kNegInf;  // NaN never wins
      if (a.scores) a.scores[tok * a.E + e] = s[i];
    }
  }

  if (a.G > 1) {
    const int gs = a.E / a.G;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (lane + 32 * i < a.E) sb[wi][lane + 32 * i] = b[i];
    __syncwarp();
    float gscore = kNegInf;
    if (lane < a.G) {
      float m1 = kNegInf, m2 = kNegInf;
      for (int q = 0; q < gs; ++q) {
        const float v = sb[wi][lane * gs + q];
        if (v > m1) {
          m2 = m1;
          m1 = v;
        } else if (v > m2) {
          m2 = v;
        }
      }
      gscore = gs >= 2 ? m1 + m2 : m1;
    }
    unsigned keep = 0;
    for (int j = 0; j < a.topk_groups; ++j) {
      const bool open = lane < a.G && !((keep >> lane) & 1u);
      const Cand c = warp_best(Cand{open ? gscore : kNegInf, open ? lane : 1 << 30, 0.f});
      keep |= 1u << c.e;
    }
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + 32 * i;
      if (e < a.E && !((keep >> (e / gs)) & 1u)) b[i] = kNegInf;
    }
  }

  int sel_e[kMaxK];
  float sel_s[kMaxK];
  float sum = 0.f;
#pragma unroll
  for (int j = 0; j < kMaxK; ++j) {
    sel_e[j] = 0;
    sel_s[j] = 0.f;
    if (j < a.K) {
      Cand c{kNegInf, 1 << 30, 0.f};
#pragma unroll
      for (int i = 0; i < kPerLane; ++i)
        if (lane + 32 * i < a.E) c = better(c, Cand{b[i], lane + 32 * i, s[i]});
      c = warp_best(c);
      sel_e[j] = c.e;
      sel_s[j] = c.s;
      sum += c.s;
#pragma unroll
      for (int i = 0; i < kPerLane; ++i)
        if (lane + 32 * i == c.e) b[i] = kNegInf;  // taken
    }
  }
#pragma unroll
  for (int j = 0; j < kMaxK; ++j)
    if (j < a.K && lane == j) {
      a.weights[tok * a.K + j] = sel_s[j] / sum * a.route_scale;
      a.indices[tok * a.K + j] = static_cast<Idx>(sel_e[j]);
    }
}

template <typename T, typename Idx>
__global__ void __launch_bounds__(kWarps * 32)
    moe_routing_bwd_kernel(const RouteBwdArgs<T, Idx> a) {
  const int lane = threadIdx.x % 32, wi = threadIdx.x / 32;
  const int64_t tok = static_cast<int64_t>(blockIdx.x) * kWarps + wi;
  if (tok >= a.n) return;
  const float* s = a.scores + tok * a.E;
  int e_j[kMaxK];
  float dw_j[kMaxK];
  float S = 0.f, dot = 0.f;
#pragma unroll
  for (int j = 0; j < kMaxK; ++j) {
    e_j[j] = -1;
    dw_j[j] = 0.f;
    if (j < a.K) {
      const int64_t e = static_cast<int64_t>(a.indices[tok * a.K + j]);
      if (e >= 0 && e < a.E) {
        e_j[j] = static_cast<int>(e);
        dw_j[j] = a.dw[tok * a.K + j];
        S += s[e];
        dot += dw_j[j] * s[e];
      }
    }
  }
  const float inv = a.route_scale / S, mean = dot / S;
  T* out = a.dlogits + tok * a.ld;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + 32 * i;
    if (e < a.E) {
      float ds = 0.f;
#pragma unroll
      for (int j = 0; j < kMaxK; ++j)
        if (e_j[j] == e) ds += inv * (dw_j[j] - mean);
      if (a.extra) ds += a.extra[tok * a.E + e];
      out[e] = from_float<T>(ds * s[e] * (1.f - s[e]));
    }
  }
}

template <typename T, typename Idx>
Status launch_fwd(const MoeRoutingParams& p, cudaStream_t stream) {
  RouteArgs<T, Idx> a{static_cast<const T*>(p.logits), p.bias, p.scores, p.weights,
                      static_cast<Idx*>(p.indices), p.n_tokens,
                      p.ld_logits ? p.ld_logits : p.n_experts, p.n_experts, p.top_k,
                      p.n_groups, p.topk_groups, p.route_scale};
  auto kernel = moe_routing_kernel<T, Idx>;
  const unsigned blocks = static_cast<unsigned>((p.n_tokens + kWarps - 1) / kWarps);
  R1K_LAUNCH(kernel, blocks, kWarps * 32, 0, stream, a);
  R1K_LAUNCH_CHECK("moe_routing");
  return {};
}

template <typename T, typename Idx>
Status launch_bwd(const MoeRoutingBackwardParams& p, cudaStream_t stream) {
  RouteBwdArgs<T, Idx> a{p.scores, static_cast<const Idx*>(p.indices), p.dweights,
                         p.dscores_extra, static_cast<T*>(p.dlogits), p.n_tokens,
                         p.ld_dlogits ? p.ld_dlogits : p.n_experts, p.n_experts, p.top_k,
                         p.route_scale};
  auto kernel = moe_routing_bwd_kernel<T, Idx>;
  const unsigned blocks = static_cast<unsigned>((p.n_tokens + kWarps - 1) / kWarps);
  R1K_LAUNCH(kernel, blocks, kWarps * 32, 0, stream, a);
  R1K_LAUNCH_CHECK("moe_routing_backward");
  return {};
}

template <template <typename, typename> class L, typename P>
Status dispatch(const P& p, cudaStream_t stream) {
  if (p.dtype == DType::f32)
    return p.index_type == IndexType::i32 ? L<float, int32_t>::run(p, stream)
                                          : L<float, int64_t>::run(p, stream);
  return p.index_type == IndexType::i32 ? L<bf16, int32_t>::run(p, stream)
                                        : L<bf16, int64_t>::run(p, stream);
}
template <typename T, typename Idx>
struct Fwd {
  static Status run(const MoeRoutingParams& p, cudaStream_t s) { return launch_fwd<T, Idx>(p, s); }
};
template <typename T, typename Idx>
struct Bwd {
  static Status run(const MoeRoutingBackwardParams& p, cudaStream_t s) {
    return launch_bwd<T, Idx>(p, s);
  }
};

}  // namespace

Status moe_routing(const MoeRoutingParams& p, cudaStream_t stream) {
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_tokens == 0) return {};
  return dispatch<Fwd>(p, stream);
}

Status moe_routing_backward(const MoeRoutingBackwardParams& p, cudaStream_t stream) {
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_tokens == 0) return {};
  return dispatch<Bwd>(p, stream);
}

}  // namespace r1::kernels
