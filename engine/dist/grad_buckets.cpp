#include "engine/dist/grad_buckets.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <unordered_set>

namespace r1::dist {

GradBuckets::GradBuckets(ProcessGroup& pg, std::vector<torch::Tensor> params, int64_t bucket_bytes)
    : pg_(pg), params_(std::move(params)) {
  if (const char* f = std::getenv("R1_DDP_FIND_UNUSED"); f && std::string(f) == "0")
    find_unused_ = false;
  const size_t n = params_.size();
  bucket_of_.assign(n, 0);
  ready_.assign(n, false);
  // Reverse registration order; a new bucket when full or when dtype/device change.
  for (size_t k = n; k-- > 0;) {
    const auto& p = params_[k];
    TORCH_CHECK(p.requires_grad(), "GradBuckets: parameter ", k, " does not require grad");
    bool fresh = buckets_.empty();
    if (!fresh) {
      const auto& last = params_[buckets_.back().params.front()];
      fresh = last.scalar_type() != p.scalar_type() || last.device() != p.device() ||
              buckets_.back().numel * p.element_size() >= bucket_bytes;
    }
    if (fresh) buckets_.emplace_back();
    auto& b = buckets_.back();
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
    bucket_of_[k] = buckets_.size() - 1;
  }
  for (auto& b : buckets_)
    b.flat = torch::empty({b.numel}, params_[b.params.front()].options().requires_grad(false));
  for (size_t k = 0; k < n; ++k) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[k]);
    TORCH_CHECK(acc, "GradBuckets: parameter ", k, " has no gradient accumulator");
    hook_keys_.push_back(acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, k](const torch::autograd::variable_list& outputs,
                  const torch::autograd::variable_list&) {
          on_ready(k);
          return outputs;
        })));
    param_of_accumulator_[acc.get()] = k;
    accumulators_.push_back(std::move(acc));  // keeps the accumulator (and its hook) alive
  }
}

GradBuckets::~GradBuckets() {
  for (size_t k = 0; k < accumulators_.size(); ++k) accumulators_[k]->del_post_hook(hook_keys_[k]);
}

void GradBuckets::arm(const at::Tensor& loss) {
  const auto t0 = std::chrono::steady_clock::now();
  // Which gradient accumulators backward from `loss` will reach.
  std::vector<char> reached(params_.size(), 0);
  if (find_unused_ && loss.defined() && loss.grad_fn()) {
    std::vector<torch::autograd::Node*> stack{loss.grad_fn().get()};
    std::unordered_set<torch::autograd::Node*> seen;
    while (!stack.empty()) {
      torch::autograd::Node* n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second) continue;
      if (auto it = param_of_accumulator_.find(n); it != param_of_accumulator_.end())
        reached[it->second] = 1;
      for (const auto& e : n->next_edges())
        if (e.function) stack.push_back(e.function.get());
    }
  } else {
    std::fill(reached.begin(), reached.end(), 1);  // nothing known: wait for every hook
  }
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  next_ = 0;
  std::fill(ready_.begin(), ready_.end(), false);
  for (auto& b : buckets_) {
    b.pending = b.params.size();
    b.launched = false;
    b.op.reset();
  }
  last_unused_ = 0;
  for (size_t k = 0; k < params_.size(); ++k)
    if (!reached[k]) {
      ready_[k] = true;
      --buckets_[bucket_of_[k]].pending;
      ++last_unused_;
    }
  launch_ready_locked();  // a bucket of unused parameters only starts at once
  last_arm_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void GradBuckets::on_ready(size_t k) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!armed_ || ready_[k]) return;
  ready_[k] = true;
  --buckets_[bucket_of_[k]].pending;
  launch_ready_locked();
}

void GradBuckets::launch_ready_locked() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) launch(buckets_[next_++]);
}

void GradBuckets::launch(Bucket& b) {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < b.params.size(); ++i) {
    const auto& g = params_[b.params[i]].grad();
    auto dst = b.flat.narrow(0, b.offsets[i], params_[b.params[i]].numel());
    if (g.defined())
      dst.copy_(g.reshape({-1}));
    else
      dst.zero_();
  }
  b.flat.div_(static_cast<double>(pg_.size()));
  b.op = pg_.allreduce_sum(b.flat);
  b.launched = true;
}

void GradBuckets::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    TORCH_CHECK(armed_, "GradBuckets::finish without arm()");
    // Parameters whose gradient never arrived in this backward: zero here, or whatever earlier
    // micro-batches accumulated.
    last_early_ = next_;
    last_unready_.clear();
    for (size_t k = 0; k < ready_.size(); ++k)
      if (!ready_[k]) last_unready_.push_back(k);
    for (auto& b : buckets_) b.pending = 0;
    launch_ready_locked();
    armed_ = false;
  }
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard ng;
  for (auto& b : buckets_) {
    b.op->wait();
    b.op.reset();
    for (size_t i = 0; i < b.params.size(); ++i) {
      auto& p = params_[b.params[i]];
      auto src = b.flat.narrow(0, b.offsets[i], p.numel()).view(p.sizes());
      if (p.grad().defined())
        p.mutable_grad().copy_(src);
      else
        p.mutable_grad() = src.clone();
    }
  }
  last_wait_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace r1::dist
