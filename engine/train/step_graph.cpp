#include "engine/train/step_graph.h"

#include <torch/version.h>

#include <stdexcept>

#ifdef R1_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace r1::train {

#ifdef R1_WITH_CUDA
struct StepGraph::Impl {
  at::cuda::CUDAGraph graph;
};
#else
struct StepGraph::Impl {};
#endif

StepGraph::StepGraph() : impl_(std::make_unique<Impl>()) {}
StepGraph::~StepGraph() = default;

std::string StepGraph::unsupported_reason() {
#ifdef R1_WITH_CUDA
  return {};
#else
  return "this LibTorch has no CUDA";
#endif
}

const std::vector<torch::Tensor>& StepGraph::capture(const torch::Tensor& tokens,
                                                     const Body& body) {
#ifdef R1_WITH_CUDA
  TORCH_CHECK(!captured_, "StepGraph: captured twice");
  TORCH_CHECK(tokens.is_cuda(), "StepGraph: the input must be on the GPU");
  input_ = tokens.clone();
  const auto device = tokens.device().index();
  c10::cuda::device_synchronize();
  auto main = at::cuda::getCurrentCUDAStream(device);
  auto side = at::cuda::getStreamFromPool(/*isHighPriority=*/false, device);
  {
    at::cuda::CUDAStreamGuard guard(side);
    // Weight casts cached by autocast would be graph-pool tensors outliving the capture.
    const bool cache = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
    try {
      impl_->graph.capture_begin();
      outputs_ = body(input_);
      impl_->graph.capture_end();
    } catch (...) {
      at::autocast::set_autocast_cache_enabled(cache);
      throw;
    }
    at::autocast::set_autocast_cache_enabled(cache);
  }
  c10::cuda::device_synchronize();
  captured_ = true;
  return replay(tokens);
#else
  (void)tokens; (void)body;
  throw std::runtime_error("StepGraph: " + unsupported_reason());
#endif
}

const std::vector<torch::Tensor>& StepGraph::replay(const torch::Tensor& tokens) {
#ifdef R1_WITH_CUDA
  TORCH_CHECK(captured_, "StepGraph: replay before capture");
  TORCH_CHECK(tokens.sizes() == input_.sizes() && tokens.scalar_type() == input_.scalar_type(),
              "StepGraph: batch shape changed from ", input_.sizes(), " to ", tokens.sizes());
  input_.copy_(tokens, /*non_blocking=*/true);
  impl_->graph.replay();
  ++replays_;
  return outputs_;
#else
  (void)tokens;
  throw std::runtime_error("StepGraph: " + unsupported_reason());
#endif
}

}  // namespace r1::train
