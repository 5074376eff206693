// Multi-tensor fused AdamW (contract in adamw.h), after Apex's multi_tensor_apply: the host
// cuts every tensor into 65536-element chunks and writes a table (tensor pointers, per-tensor
// step size and decay, chunk -> tensor) into the kernel's parameter, read in place through
// __grid_constant__; one 512-thread block per chunk, 16-byte accesses where the tensor's
// pointers allow them. CUDA >= 12.1 takes kernel parameters up to 32 KB; this one is ~13 KB.
#include "kernels/adamw.h"
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"

#include <cmath>

namespace r1::kernels {
namespace {

using namespace dev;

constexpr int kMaxTensors = 96;
constexpr int kMaxChunks = 1536;
constexpr int64_t kChunk = 65536;
constexpr int kThreads = 512;

struct AdamWTable {
  float* p[kMaxTensors];
  const void* g[kMaxTensors];
  float* m[kMaxTensors];
  float* v[kMaxTensors];
  bf16* pc[kMaxTensors];
  int64_t n[kMaxTensors];
  float step_size[kMaxTensors];  // lr / (1 - beta1^step)
  float decay[kMaxTensors];      // 1 - lr * weight_decay
  uint8_t vec[kMaxTensors];      // 16-byte accesses allowed
  uint8_t chunk_tensor[kMaxChunks];
  int32_t chunk_index[kMaxChunks];
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, bc2_sqrt, grad_scale;
  const float* grad_scale_dev;
  const float* found_inf_dev;
};
static_assert(sizeof(AdamWTable) <= 32000, "kernel parameters are limited to 32764 bytes");

struct Hyper {
  float gs, decay, step_size, b1, omb1, b2, omb2, eps, bc2_sqrt;
};

__device__ __forceinline__ void adam_one(float& p, float g, float& m, float& v, const Hyper& h) {
  g *= h.gs;
  p *= h.decay;
  m = fmaf(h.b1, m, h.omb1 * g);
  v = fmaf(h.b2, v, h.omb2 * g * g);
  p -= h.step_size * m / (sqrtf(v) / h.bc2_sqrt + h.eps);
}

template <typename G>
__global__ void __launch_bounds__(kThreads) adamw_kernel(const __grid_constant__ AdamWTable tb) {
  if (tb.found_inf_dev && *tb.found_inf_dev != 0.f) return;
  const int ti = tb.chunk_tensor[blockIdx.x];
  const int64_t begin = static_cast<int64_t>(tb.chunk_index[blockIdx.x]) * kChunk;
  const int64_t end = min(begin + kChunk, tb.n[ti]);
  float* p = tb.p[ti];
  const G* g = static_cast<const G*>(tb.g[ti]);
  float* m = tb.m[ti];
  float* v = tb.v[ti];
  bf16* pc = tb.pc[ti];
  const Hyper h{tb.grad_scale * (tb.grad_scale_dev ? *tb.grad_scale_dev : 1.f),
                tb.decay[ti], tb.step_size[ti], tb.beta1, tb.one_minus_beta1, tb.beta2,
                tb.one_minus_beta2, tb.eps, tb.bc2_sqrt};

  int64_t rest = begin;
  if (tb.vec[ti]) {
    const int64_t vend = begin + (end - begin) / 4 * 4;
    for (int64_t i = begin + 4 * threadIdx.x; i < vend; i += 4 * kThreads) {
      Pack<float, 4> pv = load_pack<float, 4>(p + i);
      const Pack<G, 4> gv = load_pack<G, 4>(g + i);
      Pack<float, 4> mv = load_pack<float, 4>(m + i);
      Pack<float, 4> vv = load_pack<float, 4>(v + i);
#pragma unroll
      for (int e = 0; e < 4; ++e) adam_one(pv.v[e], to_float(gv.v[e]), mv.v[e], vv.v[e], h);
      store_pack<float, 4>(p + i, pv);
      store_pack<float, 4>(m + i, mv);
      store_pack<float, 4>(v + i, vv);
      if (pc) {
        Pack<bf16, 4> c;
#pragma unroll
        for (int e = 0; e < 4; ++e) c.v[e] = __float2bfloat16_rn(pv.v[e]);
        store_pack<bf16, 4>(pc + i, c);
      }
    }
    rest = vend;
  }
  for (int64_t i = rest + threadIdx.x; i < end; i += kThreads) {
    float pi = p[i], mi = m[i], vi = v[i];
    adam_one(pi, to_float(g[i]), mi, vi, h);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    if (pc) pc[i] = __float2bfloat16_rn(pi);
  }
}

}  // namespace

Status adamw(const AdamWTensor* tensors, int count, const AdamWOptions& o, cudaStream_t stream) {
  const char* w = "adamw";
  if (Status s = check(tensors, count, o); !s.ok()) return s;
  const int gbytes = size_of(o.grad_dtype);
  const double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(o.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(o.step));

  AdamWTable tb{};
  tb.beta1 = o.beta1;
  tb.one_minus_beta1 = static_cast<float>(1.0 - o.beta1);
  tb.beta2 = o.beta2;
  tb.one_minus_beta2 = static_cast<float>(1.0 - o.beta2);
  tb.eps = o.eps;
  tb.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  tb.grad_scale = o.grad_scale;
  tb.grad_scale_dev = o.grad_scale_dev;
  tb.found_inf_dev = o.found_inf_dev;

  int nt = 0, nc = 0;
  auto flush = [&]() -> Status {
    if (nc > 0) {
      auto kernel = o.grad_dtype == DType::f32 ? adamw_kernel<float> : adamw_kernel<bf16>;
      R1K_LAUNCH(kernel, nc, kThreads, 0, stream, tb);
      R1K_LAUNCH_CHECK(w);
    }
    nt = nc = 0;
    return {};
  };
  for (int i = 0; i < count; ++i) {
    const AdamWTensor& t = tensors[i];
    if (t.numel == 0) continue;
    R1K_REQUIRE(w, aligned(t.param, 4) && aligned(t.grad, gbytes) && aligned(t.exp_avg, 4) &&
                       aligned(t.exp_avg_sq, 4) && (!t.param_bf16 || aligned(t.param_bf16, 2)),
                "tensor " + std::to_string(i) + ": pointers not aligned to their element size");
    const int64_t chunks = (t.numel + kChunk - 1) / kChunk;
    int slot = -1;  // this tensor's entry in the current table
    for (int64_t c = 0; c < chunks; ++c) {
      if (slot < 0) {
        if (nt == kMaxTensors)
          if (Status s = flush(); !s.ok()) return s;
        slot = nt++;
        tb.p[slot] = t.param;
        tb.g[slot] = t.grad;
        tb.m[slot] = t.exp_avg;
        tb.v[slot] = t.exp_avg_sq;
        tb.pc[slot] = static_cast<bf16*>(t.param_bf16);
        tb.n[slot] = t.numel;
        tb.step_size[slot] = static_cast<float>(static_cast<double>(t.lr) / bc1);
        tb.decay[slot] = static_cast<float>(1.0 - static_cast<double>(t.lr) * t.weight_decay);
        tb.vec[slot] = aligned(t.param, 16) && aligned(t.grad, 4 * gbytes) &&
                       aligned(t.exp_avg, 16) && aligned(t.exp_avg_sq, 16) &&
                       (!t.param_bf16 || aligned(t.param_bf16, 8));
      }
      tb.chunk_tensor[nc] = static_cast<uint8_t>(slot);
      tb.chunk_index[nc] = static_cast<int32_t>(c);
      if (++nc == kMaxChunks) {
        if (Status s = flush(); !s.ok()) return s;
        slot = -1;
      }
    }
  }
  return flush();
}

}  // namespace r1::kernels
