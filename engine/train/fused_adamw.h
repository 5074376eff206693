#pragma once
// The optimizer step through kernels/adamw (multi-tensor fused AdamW, layered learning rates
// and decoupled weight decay per tensor, clipping folded in as a device-side gradient scale)
// on the state of the torch::optim::AdamW object itself (exp_avg, exp_avg_sq, step per
// parameter), so checkpoints and resume do not change. ATen's C++ AdamW launches about ten
// kernels per parameter and clip_grad_norm_ a few more: for r1-mini's ~400 tensors that is
// thousands of launches per step in a host-bound MoE step; this is a handful.
#include <torch/torch.h>

#include <optional>

namespace r1::train {

// Clips the gradients to `max_norm` (infinity: no clipping) and takes one AdamW step of `opt`
// with the fused kernel. Returns the gradient norm before clipping, or nullopt (and does
// nothing) where the kernel does not apply: no kernels in this build, kernels switched off
// (train.kernels), a parameter or gradient not a contiguous fp32 CUDA tensor, or AMSGrad. The
// caller then takes the ATen path.
std::optional<double> fused_adamw_step(torch::optim::AdamW& opt, double max_norm);

// The AdamW state of one parameter, or null before its first step. (LibTorch keys the state by
// the TensorImpl's address, as a string in 1.13 and as the pointer itself in 2.x.)
torch::optim::AdamWParamState* adamw_state(torch::optim::AdamW& opt, const torch::Tensor& param);

}  // namespace r1::train
