#pragma once
// Softmax cross-entropy with label smoothing, forward and backward in one kernel: per row, one
// read of the logits for an online max / sum-of-exp, then (when dlogits is set) a second read of
// the same row, mostly from L2, that writes the gradient. No [N, V] probability tensor.
//
//   lse_i   = log sum_j exp(x_ij)
//   loss_i  = (1 - e) (lse_i - x_i,t) + e (lse_i - mean_j x_ij)          (e = smoothing)
//   dx_ij   = (softmax_ij - (1 - e) [j == t] - e / V) * grad_scale
// Rows whose target equals ignore_index get loss 0, lse 0 and a zero gradient row. A target
// outside [0, V) that is not ignore_index gives a NaN loss and a NaN gradient row.
// For a mean over the valid rows, grad_scale = grad_out / n_valid: cross_entropy_mean_scale
// computes it on the stream (no host sync, graph-capturable) into a device float.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct CrossEntropyParams {
  const void* logits = nullptr;  // [n_rows, vocab], rows ld_logits elements apart, dtype
  DType dtype = DType::f32;      // of logits and dlogits
  int64_t n_rows = 0;
  int64_t vocab = 0;             // 1 <= vocab < 2^31
  int64_t ld_logits = 0;         // 0: vocab
  const void* targets = nullptr;  // [n_rows], int32 or int64
  IndexType target_type = IndexType::i64;
  int64_t ignore_index = -100;
  float smoothing = 0.f;  // in [0, 1]

  float* loss = nullptr;     // [n_rows] fp32, or null
  float* lse = nullptr;      // [n_rows] fp32 log-sum-exp (what a separate backward needs), or null
  void* dlogits = nullptr;   // [n_rows, vocab] in dtype, or null (forward only); may equal logits
  int64_t ld_dlogits = 0;    // 0: vocab (must equal ld_logits when dlogits == logits)
  float grad_scale = 1.f;    // dlogits multiplier, times *grad_scale_dev when that is set
  const float* grad_scale_dev = nullptr;  // device scalar, e.g. from cross_entropy_mean_scale
};

// Argument checks shared by the kernel and the reference ("" when fine).
Status check(const CrossEntropyParams& p);

// All pointers on the device; runs on `stream`.
Status cross_entropy(const CrossEntropyParams& p, cudaStream_t stream);

// *scale_out = grad_out * (*grad_out_dev if set) / n_valid, n_valid = rows whose target is not
// ignore_index (scale 0 when there are none); *n_valid_out too when set. Device pointers.
Status cross_entropy_mean_scale(const void* targets, IndexType target_type, int64_t n_rows,
                                int64_t ignore_index, float grad_out, const float* grad_out_dev,
                                float* scale_out, int32_t* n_valid_out, cudaStream_t stream);

// CPU reference in float64 (kernels/cross_entropy_ref.cpp). Reads p's inputs from host memory;
// the outputs come back in double: loss [n_rows], lse [n_rows], dlogits [n_rows * vocab] dense
// (empty when p.dlogits is null). grad_scale_dev must be null (fold it into grad_scale).
// Throws std::invalid_argument on what check() rejects.
struct CrossEntropyRef {
  std::vector<double> loss, lse, dlogits;
};
CrossEntropyRef cross_entropy_ref(const CrossEntropyParams& p);

}  // namespace r1::kernels
