// RMSNorm forward / backward, optionally fused with the residual add (contract in rmsnorm.h).
//
// A group of G threads owns one row, N 16-byte packs each (Shape below: G = 32 with up to four
// packs for rows up to 1024 bf16 / 512 fp32 elements); a block (at least 256 threads forward,
// 128 backward) holds several rows. The row stays in registers between the sum of squares and
// the output, so each input is read once.
// The backward runs a grid of at most one wave; each thread keeps dweight partial sums for its
// columns across all the rows its group visits, the groups of a block add theirs in a fixed
// order through shared memory, each block writes one partial row to the workspace, and a second
// kernel sums those rows in a fixed order: dweight is deterministic for a given GPU and shape.
#include "kernels/cuda_check.h"
#include "kernels/device_utils.cuh"
#include "kernels/rmsnorm.h"

#include <algorithm>
#include <initializer_list>

namespace r1::kernels {
namespace {

using namespace dev;

constexpr int kMaxBackwardBlocks = 1024;  // rmsnorm_backward_workspace_bytes() assumes it
constexpr int kMaxVecsPerRow = 1024;      // packs (or elements, unpacked) per row

template <typename T, typename Ty>
struct FwdArgs {
  const T* x;
  const Ty* r;  // the branch added to the residual stream: in y's type
  const float* w;
  Ty* y;
  T* h;
  float* rstd;
  int64_t n_rows, ld_x, ld_r, ld_y, ld_h;
  int dim;
  float eps;
};

template <typename T, typename Tdy>
struct BwdArgs {
  const Tdy* dy;
  const T* h;
  const float* w;
  const float* rstd;
  const T* ex;
  T* dx;
  float* partial;  // [gridDim.x, dim], or null when dweight is not wanted
  int64_t n_rows, ld_dy, ld_h, ld_ex, ld_dx;
  int dim;
};

// Ty: y's type, T or (y_bf16) bf16 beside f32 x.
template <typename T, typename Ty, int kVec, int G, int kN, int kBlock>
__global__ void __launch_bounds__(kBlock) rmsnorm_fwd_kernel(const FwdArgs<T, Ty> a) {
  constexpr int kRows = kBlock / G;
  __shared__ float smem[32];
  const int t = threadIdx.x % G;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x / G;
  const bool active = row < a.n_rows;  // inactive groups still take part in group_sum
  const int nvec = a.dim / kVec;

  Pack<T, kVec> hc[kN];
  float ss = 0.f;
  if (active) {
    const T* x = a.x + row * a.ld_x;
    Pack<Ty, kVec> rc[kN];
#pragma unroll
    for (int i = 0; i < kN; ++i) {
      const int v = t + i * G;
      if (v < nvec) {
        hc[i] = load_pack<T, kVec>(x + v * kVec);
        if (a.r) rc[i] = load_pack<Ty, kVec>(a.r + row * a.ld_r + v * kVec);
      }
    }
#pragma unroll
    for (int i = 0; i < kN; ++i) {
      const int v = t + i * G;
      if (v < nvec) {
        if (a.r) {
#pragma unroll
          for (int e = 0; e < kVec; ++e)
            hc[i].v[e] = from_float<T>(to_float(hc[i].v[e]) + to_float(rc[i].v[e]));
          store_pack<T, kVec>(a.h + row * a.ld_h + v * kVec, hc[i]);
        }
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          const float f = to_float(hc[i].v[e]);
          ss = fmaf(f, f, ss);
        }
      }
    }
  }
  ss = group_sum<G>(ss, smem);
  if (!active) return;
  const float rs = rsqrtf(ss / static_cast<float>(a.dim) + a.eps);
  if (t == 0 && a.rstd) a.rstd[row] = rs;
  Ty* y = a.y + row * a.ld_y;
#pragma unroll
  for (int i = 0; i < kN; ++i) {
    const int v = t + i * G;
    if (v < nvec) {
      const Pack<float, kVec> w = load_pack<float, kVec>(a.w + v * kVec);
      Pack<Ty, kVec> o;
#pragma unroll
      for (int e = 0; e < kVec; ++e) o.v[e] = from_float<Ty>(to_float(hc[i].v[e]) * rs * w.v[e]);
      store_pack<Ty, kVec>(y + v * kVec, o);
    }
  }
}

// Tdy: dy's type, T or (dy_bf16) bf16 beside f32 h.
template <typename T, typename Tdy, int kVec, int G, int kN, int kBlock>
__global__ void __launch_bounds__(kBlock) rmsnorm_bwd_kernel(const BwdArgs<T, Tdy> a) {
  constexpr int kRows = kBlock / G;
  __shared__ float smem[32];
  R1K_DYNAMIC_SMEM(float, dw_smem);  // [dim] when kRows > 1 and partial is set
  const int t = threadIdx.x % G, grp = threadIdx.x / G;
  const int nvec = a.dim / kVec;

  float dwa[kN][kVec];
#pragma unroll
  for (int i = 0; i < kN; ++i)
#pragma unroll
    for (int e = 0; e < kVec; ++e) dwa[i][e] = 0.f;

  // Every group runs the same number of iterations (group_sum synchronizes the block).
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kRows; base < a.n_rows;
       base += static_cast<int64_t>(gridDim.x) * kRows) {
    const int64_t row = base + grp;
    const bool active = row < a.n_rows;
    Pack<Tdy, kVec> dyc[kN];
    Pack<T, kVec> hc[kN];
    float rs = 0.f, dot = 0.f;
    if (active) {
      rs = a.rstd[row];
#pragma unroll
      for (int i = 0; i < kN; ++i) {
        const int v = t + i * G;
        if (v < nvec) {
          dyc[i] = load_pack<Tdy, kVec>(a.dy + row * a.ld_dy + v * kVec);
          hc[i] = load_pack<T, kVec>(a.h + row * a.ld_h + v * kVec);
        }
      }
#pragma unroll
      for (int i = 0; i < kN; ++i) {
        const int v = t + i * G;
        if (v < nvec) {
          const Pack<float, kVec> w = load_pack<float, kVec>(a.w + v * kVec);
#pragma unroll
          for (int e = 0; e < kVec; ++e) {
            const float dy = to_float(dyc[i].v[e]);
            const float xh = to_float(hc[i].v[e]) * rs;
            dot = fmaf(w.v[e] * dy, xh, dot);
            dwa[i][e] = fmaf(dy, xh, dwa[i][e]);
          }
        }
      }
    }
    dot = group_sum<G>(dot, smem) / static_cast<float>(a.dim);
    if (active) {
      Pack<T, kVec> exc[kN];
      if (a.ex) {
#pragma unroll
        for (int i = 0; i < kN; ++i) {
          const int v = t + i * G;
          if (v < nvec) exc[i] = load_pack<T, kVec>(a.ex + row * a.ld_ex + v * kVec);
        }
      }
#pragma unroll
      for (int i = 0; i < kN; ++i) {
        const int v = t + i * G;
        if (v < nvec) {
          const Pack<float, kVec> w = load_pack_ro<float, kVec>(a.w + v * kVec);
          Pack<T, kVec> o;
#pragma unroll
          for (int e = 0; e < kVec; ++e) {
            const float xh = to_float(hc[i].v[e]) * rs;
            float d = rs * (w.v[e] * to_float(dyc[i].v[e]) - xh * dot);
            if (a.ex) d += to_float(exc[i].v[e]);
            o.v[e] = from_float<T>(d);
          }
          store_pack<T, kVec>(a.dx + row * a.ld_dx + v * kVec, o);
        }
      }
    }
  }
  if (!a.partial) return;

  // This block's dweight partial row; groups add in order 0, 1, ... (deterministic).
  float* part = a.partial + static_cast<int64_t>(blockIdx.x) * a.dim;
  if constexpr (kRows == 1) {
#pragma unroll
    for (int i = 0; i < kN; ++i) {
      const int v = t + i * G;
      if (v < nvec) {
        Pack<float, kVec> o;
#pragma unroll
        for (int e = 0; e < kVec; ++e) o.v[e] = dwa[i][e];
        store_pack<float, kVec>(part + v * kVec, o);
      }
    }
  } else {
    for (int k = 0; k < kRows; ++k) {
      if (grp == k) {
#pragma unroll
        for (int i = 0; i < kN; ++i) {
          const int v = t + i * G;
          if (v < nvec) {
#pragma unroll
            for (int e = 0; e < kVec; ++e)
              dw_smem[v * kVec + e] = (k == 0 ? 0.f : dw_smem[v * kVec + e]) + dwa[i][e];
          }
        }
      }
      __syncthreads();
    }
    for (int c = threadIdx.x; c < a.dim; c += kBlock) part[c] = dw_smem[c];
  }
}

// dweight[c] (+)= sum over b of partial[b, c], b in a fixed order per column: 32 columns per
// block, 32 lanes each summing every 32nd partial row, then the lanes in order. (8 lanes left
// each thread ~128 dependent loads: 7.5 us per call, latency-bound.)
constexpr int kSumLanes = 32;
__global__ void __launch_bounds__(32 * kSumLanes)
    dweight_sum_kernel(const float* partial, int n_parts, int dim, float* dw, bool accumulate) {
  __shared__ float s[kSumLanes][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  float sum = 0.f;
  if (c < dim)
    for (int b = threadIdx.y; b < n_parts; b += kSumLanes)
      sum += partial[static_cast<int64_t>(b) * dim + c];
  s[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < dim) {
    float total = 0.f;
#pragma unroll
    for (int k = 0; k < kSumLanes; ++k) total += s[k][threadIdx.x];
    dw[c] = accumulate ? dw[c] + total : total;
  }
}

// Who owns a row: a group of G threads, N packs each. Packed rows (16 bytes a pack): the
// smallest G with G * 4 >= nvec, then the fewest N that cover the row, so a 768-wide bf16 row
// (96 packs) is one warp of 3 packs - no block barrier in the row's reduction, every lane busy -
// where two packs a thread took 64 threads, half of them with one pack, and a __syncthreads
// per row (71 % of copy bandwidth in the backward on an H200). Unpacked rows: N = 2.
struct Shape {
  int g, n;
};
Shape shape_for(int nvec, bool packed) {
  const int most = packed ? 4 : 2;
  int g = 32;
  while (g * most < nvec) g *= 2;
  return {g, (nvec + g - 1) / g};
}

template <typename T, typename Ty, int kVec, int G, int kN>
Status launch_fwd(const RmsNormForwardParams& p, cudaStream_t stream) {
  constexpr int kBlock = G > 256 ? G : 256, kRows = kBlock / G;
  const int64_t D = p.dim;
  FwdArgs<T, Ty> a{static_cast<const T*>(p.x), static_cast<const Ty*>(p.residual), p.weight,
               static_cast<Ty*>(p.y), static_cast<T*>(p.h), p.rstd, p.n_rows,
               p.ld_x ? p.ld_x : D, p.ld_residual ? p.ld_residual : D, p.ld_y ? p.ld_y : D,
               p.ld_h ? p.ld_h : D, static_cast<int>(D), p.eps};
  const int64_t blocks = (p.n_rows + kRows - 1) / kRows;
  auto kernel = rmsnorm_fwd_kernel<T, Ty, kVec, G, kN, kBlock>;
  R1K_LAUNCH(kernel, static_cast<unsigned>(blocks), kBlock, 0, stream, a);
  R1K_LAUNCH_CHECK("rmsnorm_forward");
  return {};
}

template <typename T, typename Tdy, int kVec, int G, int kN>
Status launch_bwd(const RmsNormBackwardParams& p, cudaStream_t stream) {
  const char* w = "rmsnorm_backward";
  // ~95 registers per thread in bf16: 128-thread blocks fill an SM better (5 x 128) than 256.
  constexpr int kBlock = G > 128 ? G : 128, kRows = kBlock / G;
  const int64_t D = p.dim;
  const bool dw = p.dweight != nullptr;
  const size_t smem = (dw && kRows > 1) ? D * sizeof(float) : 0;
  auto kernel = rmsnorm_bwd_kernel<T, Tdy, kVec, G, kN, kBlock>;
  int device = 0, sms = 0, per_sm = 0;
  R1K_CUDA_TRY(w, cudaGetDevice(&device));
  R1K_CUDA_TRY(w, cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  R1K_CUDA_TRY(w, cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kBlock, smem));
  const int64_t blocks = std::min<int64_t>(
      {(p.n_rows + kRows - 1) / kRows, static_cast<int64_t>(std::max(per_sm, 1)) * sms,
       static_cast<int64_t>(kMaxBackwardBlocks)});
  BwdArgs<T, Tdy> a{static_cast<const Tdy*>(p.dy), static_cast<const T*>(p.h), p.weight, p.rstd,
               static_cast<const T*>(p.dh_extra), static_cast<T*>(p.dx),
               dw ? static_cast<float*>(p.workspace) : nullptr, p.n_rows, p.ld_dy ? p.ld_dy : D,
               p.ld_h ? p.ld_h : D, p.ld_dh_extra ? p.ld_dh_extra : D, p.ld_dx ? p.ld_dx : D,
               static_cast<int>(D)};
  R1K_LAUNCH(kernel, static_cast<unsigned>(blocks), kBlock, smem, stream, a);
  R1K_LAUNCH_CHECK(w);
  if (dw) {
    auto sum = dweight_sum_kernel;
    R1K_LAUNCH(sum, static_cast<unsigned>((D + 31) / 32), dim3(32, kSumLanes), 0, stream,
               static_cast<const float*>(p.workspace), static_cast<int>(blocks),
               static_cast<int>(D), p.dweight, p.accumulate_dweight);
    R1K_LAUNCH_CHECK(w);
  }
  return {};
}

// Calls L<T, T2, kVec, G, N>::run(...) for the row's Shape (T2: y's or dy's type). Packed rows
// take G = 32 with N = 1 ... 4, or G = 64 ... 256 with N = 3, 4 (Shape's rule never gives
// G > 32 with N < 3); unpacked rows N = 2 with G = 32 ... 512.
template <typename T, typename T2, int kVec, template <typename, typename, int, int, int> class L,
          typename P>
Status by_shape(const P& p, cudaStream_t stream) {
  const Shape s = shape_for(static_cast<int>(p.dim / kVec), kVec > 1);
  if constexpr (kVec > 1) {
    if (s.g == 32) {
      switch (s.n) {
        case 1: return L<T, T2, kVec, 32, 1>::run(p, stream);
        case 2: return L<T, T2, kVec, 32, 2>::run(p, stream);
        case 3: return L<T, T2, kVec, 32, 3>::run(p, stream);
        default: return L<T, T2, kVec, 32, 4>::run(p, stream);
      }
    }
    const bool three = s.n == 3;
    switch (s.g) {
      case 64:
        return three ? L<T, T2, kVec, 64, 3>::run(p, stream) : L<T, T2, kVec, 64, 4>::run(p, stream);
      case 128:
        return three ? L<T, T2, kVec, 128, 3>::run(p, stream)
                     : L<T, T2, kVec, 128, 4>::run(p, stream);
      default:
        return three ? L<T, T2, kVec, 256, 3>::run(p, stream)
                     : L<T, T2, kVec, 256, 4>::run(p, stream);
    }
  } else {
    switch (s.g) {
      case 32: return L<T, T2, kVec, 32, 2>::run(p, stream);
      case 64: return L<T, T2, kVec, 64, 2>::run(p, stream);
      case 128: return L<T, T2, kVec, 128, 2>::run(p, stream);
      case 256: return L<T, T2, kVec, 256, 2>::run(p, stream);
      default: return L<T, T2, kVec, 512, 2>::run(p, stream);
    }
  }
}
template <typename T, typename Ty, int kVec, int G, int kN>
struct Fwd {
  static Status run(const RmsNormForwardParams& p, cudaStream_t s) {
    return launch_fwd<T, Ty, kVec, G, kN>(p, s);
  }
};
template <typename T, typename Tdy, int kVec, int G, int kN>
struct Bwd {
  static Status run(const RmsNormBackwardParams& p, cudaStream_t s) {
    return launch_bwd<T, Tdy, kVec, G, kN>(p, s);
  }
};

// 16-byte packs when dim, every ld and every pointer allow them; else one element at a time.
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

template <template <typename, typename, int, int, int> class L, typename P>
Status dispatch(const char* w, const P& p, bool vec, bool low_bf16, cudaStream_t stream) {
  const int es = size_of(p.dtype);
  const int64_t nvec = vec ? p.dim / (16 / es) : p.dim;
  R1K_REQUIRE(w, nvec <= kMaxVecsPerRow,
              "dim = " + std::to_string(p.dim) + " in " + name(p.dtype) +
                  (vec ? "" : " without 16-byte alignment (dim, ld or pointers)") +
                  ": rows of at most " + std::to_string(kMaxVecsPerRow) +
                  (vec ? " 16-byte packs" : " elements") + " are supported");
  if (p.dtype == DType::f32 && low_bf16)
    return vec ? by_shape<float, bf16, 4, L>(p, stream) : by_shape<float, bf16, 1, L>(p, stream);
  if (p.dtype == DType::f32)
    return vec ? by_shape<float, float, 4, L>(p, stream) : by_shape<float, float, 1, L>(p, stream);
  return vec ? by_shape<bf16, bf16, 8, L>(p, stream) : by_shape<bf16, bf16, 1, L>(p, stream);
}

}  // namespace

Status rmsnorm_forward(const RmsNormForwardParams& p, cudaStream_t stream) {
  const char* w = "rmsnorm_forward";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_rows == 0) return {};
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.x, es) && aligned(p.y, p.y_bf16 ? 2 : es) && aligned(p.weight, 4) &&
                     (!p.residual || aligned(p.residual, p.y_bf16 ? 2 : es)) &&
                     (!p.h || aligned(p.h, es)),
              std::string("pointers not aligned to their element size"));
  const int64_t D = p.dim;
  const bool vec = packable(D, es, {p.ld_x ? p.ld_x : D, p.ld_y ? p.ld_y : D,
                                    p.ld_residual ? p.ld_residual : D, p.ld_h ? p.ld_h : D},
                            {p.x, p.y, p.residual, p.h, p.weight});
  return dispatch<Fwd>(w, p, vec, p.y_bf16, stream);
}

Status rmsnorm_backward(const RmsNormBackwardParams& p, cudaStream_t stream) {
  const char* w = "rmsnorm_backward";
  if (Status s = check(p); !s.ok()) return s;
  if (p.n_rows == 0) {
    if (p.dweight && !p.accumulate_dweight)
      R1K_CUDA_TRY(w, cudaMemsetAsync(p.dweight, 0, p.dim * sizeof(float), stream));
    return {};
  }
  const int es = size_of(p.dtype);
  R1K_REQUIRE(w, aligned(p.dy, p.dy_bf16 ? 2 : es) && aligned(p.h, es) && aligned(p.dx, es) &&
                     aligned(p.weight, 4) && (!p.dh_extra || aligned(p.dh_extra, es)) &&
                     (!p.dweight || aligned(p.workspace, 16)),
              std::string("pointers not aligned to their element size (workspace: 16 bytes)"));
  const int64_t D = p.dim;
  const bool vec = packable(D, es, {p.ld_dy ? p.ld_dy : D, p.ld_h ? p.ld_h : D,
                                    p.ld_dh_extra ? p.ld_dh_extra : D, p.ld_dx ? p.ld_dx : D},
                            {p.dy, p.h, p.dh_extra, p.dx, p.weight});
  return dispatch<Bwd>(w, p, vec, p.dy_bf16, stream);
}

}  // namespace r1::kernels
