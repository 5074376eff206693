#pragma once
// Token permutation for the routed experts: the (token, slot) pairs of a routing (pair
// p = token * top_k + slot) sorted by expert, stably (by pair within an expert, as the stable
// sort in engine/model/moe.cpp), so that each expert's rows are contiguous for a grouped GEMM:
//   plan:    counts [E], offsets [E + 1] (exclusive scan), position [P] (pair -> sorted row),
//            pair_of [P] (sorted row -> pair). An expert index outside [0, E) drops its pair:
//            position -1, and the rows past offsets[E] have pair_of -1.
//   gather:  rows[r] = x[pair_of[r] / top_k] (* weights[pair_of[r]] when weights are given)
//   combine: y[t] (+)= sum over slots j, in order, of weights[t, j] * rows[position[t, j]]
//            (weight 1 when weights is null; fp32 accumulation, no atomics: deterministic)
//   combine_weight_grad: dweights[t, j] = dot(dy[t], rows[position[t, j]])
// Backward: of gather (no weights) = combine(d rows, weights = null); of combine:
// d rows = gather(dy, weights), d weights = combine_weight_grad(dy, rows).
// P = n_tokens * top_k < 2^31, top_k <= 8, E <= 4096.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct MoePermutePlanParams {
  int64_t n_tokens = 0;
  int top_k = 0;
  int n_experts = 0;
  const void* indices = nullptr;  // [n_tokens, top_k]
  IndexType index_type = IndexType::i64;
  int32_t* counts = nullptr;    // [n_experts]
  int32_t* offsets = nullptr;   // [n_experts + 1]
  int32_t* position = nullptr;  // [n_tokens * top_k]
  int32_t* pair_of = nullptr;   // [n_tokens * top_k]
  void* workspace = nullptr;    // moe_permute_workspace_bytes()
  size_t workspace_bytes = 0;
};

struct MoeGatherParams {
  DType dtype = DType::f32;  // of x and rows
  int64_t n_rows = 0;        // n_tokens * top_k
  int top_k = 0;
  int64_t dim = 0;
  const void* x = nullptr;  // [n_tokens, dim], rows ld_x apart (0: dim)
  int64_t ld_x = 0;
  const int32_t* pair_of = nullptr;  // [n_rows] from the plan
  const float* weights = nullptr;    // [n_tokens * top_k] or null
  void* rows = nullptr;              // [n_rows, dim]
  int64_t ld_rows = 0;
};

struct MoeCombineParams {
  DType dtype = DType::f32;  // of rows and y
  int64_t n_tokens = 0;
  int top_k = 0;
  int64_t dim = 0;
  const void* rows = nullptr;  // [n_tokens * top_k, dim] in expert order
  int64_t ld_rows = 0;
  const int32_t* position = nullptr;  // [n_tokens * top_k] from the plan
  const float* weights = nullptr;     // [n_tokens, top_k] or null (1)
  void* y = nullptr;                  // [n_tokens, dim]
  int64_t ld_y = 0;
  bool accumulate = false;  // y += instead of =
};

struct MoeCombineWeightGradParams {
  DType dtype = DType::f32;  // of dy and rows
  int64_t n_tokens = 0;
  int top_k = 0;
  int64_t dim = 0;
  const void* dy = nullptr;  // [n_tokens, dim]
  int64_t ld_dy = 0;
  const void* rows = nullptr;  // [n_tokens * top_k, dim] in expert order
  int64_t ld_rows = 0;
  const int32_t* position = nullptr;
  float* dweights = nullptr;  // [n_tokens, top_k]
};

size_t moe_permute_workspace_bytes(int64_t n_tokens, int top_k, int n_experts);

Status check(const MoePermutePlanParams& p);
Status check(const MoeGatherParams& p);
Status check(const MoeCombineParams& p);
Status check(const MoeCombineWeightGradParams& p);

Status moe_permute_plan(const MoePermutePlanParams& p, cudaStream_t stream);
Status moe_gather(const MoeGatherParams& p, cudaStream_t stream);
Status moe_combine(const MoeCombineParams& p, cudaStream_t stream);
Status moe_combine_weight_grad(const MoeCombineWeightGradParams& p, cudaStream_t stream);

// CPU references (kernels/moe_permute_ref.cpp): host pointers; dense double results.
struct MoePermutePlanRef {
  std::vector<int32_t> counts, offsets, position, pair_of;
};
MoePermutePlanRef moe_permute_plan_ref(const MoePermutePlanParams& p);
std::vector<double> moe_gather_ref(const MoeGatherParams& p);    // [n_rows * dim]
std::vector<double> moe_combine_ref(const MoeCombineParams& p);  // [n_tokens * dim]; reads y
                                                                 // when accumulate
std::vector<double> moe_combine_weight_grad_ref(const MoeCombineWeightGradParams& p);

}  // namespace r1::kernels
