#pragma once
// What the autograd wrappers around kernels/ share (only in builds that link the kernels): the
// current CUDA stream, Status → exception, and the dtype mapping.
#ifdef R1_WITH_KERNELS
#include "kernels/common.h"

#include <ATen/cuda/CUDAContext.h>
#include <torch/torch.h>

namespace r1::model::ops::glue {

inline cudaStream_t stream() { return at::cuda::getCurrentCUDAStream().stream(); }

inline void ok(const kernels::Status& s) { TORCH_CHECK(s.ok(), s.message); }

inline bool kernel_dtype(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kBFloat16;
}
inline kernels::DType dtype_of(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 ? kernels::DType::bf16 : kernels::DType::f32;
}
inline kernels::IndexType index_type_of(const torch::Tensor& t) {
  return t.scalar_type() == torch::kInt32 ? kernels::IndexType::i32 : kernels::IndexType::i64;
}

}  // namespace r1::model::ops::glue
#endif
