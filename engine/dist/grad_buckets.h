#pragma once
// Gradient all-reduce in buckets, overlapped with backward (the scheme of PyTorch DDP's reducer):
// parameters are grouped, in reverse registration order (≈ the order backward produces their
// gradients), into buckets of about `bucket_bytes`. A post-hook on each parameter's gradient
// accumulator marks it ready; when a bucket is complete it is flattened, divided by the world
// size and its all-reduce starts while backward goes on. Buckets always start in index order, so
// every rank issues the same sequence of collectives even when some parameters get no gradient
// on some rank (an MoE expert no token chose): finish() zero-fills those and starts the rest.
#include "engine/dist/process_group.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace torch::autograd {
struct Node;
}

namespace r1::dist {

class GradBuckets {
 public:
  GradBuckets(ProcessGroup& pg, std::vector<torch::Tensor> params,
              int64_t bucket_bytes = 25ll << 20);
  ~GradBuckets();
  GradBuckets(const GradBuckets&) = delete;
  GradBuckets& operator=(const GradBuckets&) = delete;

  // The next backward, from `loss`, is the last micro-batch of a step: reduce as gradients
  // become ready. Earlier micro-batches only accumulate locally (no communication). Parameters
  // that `loss` does not reach (an MoE expert no token chose on this rank) are ready at once:
  // found by walking the autograd graph, as DDP's find_unused_parameters does, so that they do
  // not hold back the buckets after theirs until backward ends.
  // R1_DDP_FIND_UNUSED=0 skips the walk (A/B runs): unused parameters then wait for finish().
  void arm(const at::Tensor& loss);
  // After that backward: start what is left, wait for everything and write the averaged
  // gradients back into each parameter's .grad. Throws DistError when a collective fails.
  void finish();

  size_t buckets() const { return buckets_.size(); }
  double last_wait_ms() const { return last_wait_ms_; }  // time finish() spent blocked
  // Overlap diagnostics of the last finish(): buckets whose all-reduce started during backward,
  // and the parameters (indices into `params`) whose gradient had not arrived when it ended —
  // one of them at the front holds back every later bucket.
  size_t last_early() const { return last_early_; }
  size_t last_unused() const { return last_unused_; }  // parameters `loss` did not reach
  double last_arm_ms() const { return last_arm_ms_; }  // arm()'s own time (the graph walk)
  const std::vector<size_t>& last_unready() const { return last_unready_; }

 private:
  struct Bucket {
    std::vector<size_t> params;
    std::vector<int64_t> offsets;
    int64_t numel = 0;
    size_t pending = 0;
    bool launched = false;
    at::Tensor flat;
    std::unique_ptr<PendingOp> op;
  };
  void on_ready(size_t param);
  void launch_ready_locked();
  void launch(Bucket& b);

  ProcessGroup& pg_;
  std::vector<torch::Tensor> params_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> ready_;
  std::vector<Bucket> buckets_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
  std::vector<uintptr_t> hook_keys_;
  std::unordered_map<const torch::autograd::Node*, size_t> param_of_accumulator_;
  std::mutex mu_;
  bool armed_ = false;
  size_t next_ = 0;
  double last_wait_ms_ = 0;
  size_t last_early_ = 0;
  size_t last_unused_ = 0;
  double last_arm_ms_ = 0;
  bool find_unused_ = true;
  std::vector<size_t> last_unready_;
};

}  // namespace r1::dist
