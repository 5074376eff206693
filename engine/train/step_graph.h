#pragma once
// One micro-batch's forward + backward captured once as a CUDA graph and replayed every step
// after (train.cuda_graph): the host then issues one launch instead of a few thousand, which is
// what bounds the step when the GPU is fast and the model small. Shapes are static (batch and
// sequence fixed), the model has no host syncs on CUDA, and the optimizer (outside the graph)
// reads the gradients where the graph writes them: with several micro-batches, accumulated in
// place into .grad tensors that exist before the capture; with one, made by the captured
// backward in the graph's own pool (the trainer decides). Needs LibTorch with CUDA.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace r1::train {

class StepGraph {
 public:
  using Body = std::function<std::vector<torch::Tensor>(const torch::Tensor& tokens)>;

  StepGraph();
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // Empty when graphs can be used with this LibTorch; else why not.
  static std::string unsupported_reason();

  bool captured() const { return captured_; }
  int64_t replays() const { return replays_; }

  // Records body(static tokens) on a side stream (nothing runs), then replays it once for
  // `tokens`. Returns body's outputs: static tensors that each replay overwrites.
  const std::vector<torch::Tensor>& capture(const torch::Tensor& tokens, const Body& body);
  // Copies tokens into the static input (same shape and dtype) and replays.
  const std::vector<torch::Tensor>& replay(const torch::Tensor& tokens);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  torch::Tensor input_;
  std::vector<torch::Tensor> outputs_;
  bool captured_ = false;
  int64_t replays_ = 0;
};

}  // namespace r1::train
