#pragma once
// The training loop of one process: data, model, AdamW with layered learning rates, schedule,
// mixed precision with dynamic loss scaling, clipping, accumulation, evaluation, checkpoints,
// router-bias balancing, and one event per thing that happens.
#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/dist/dist_env.h"
#include "engine/events/sink.h"
#include "engine/model/r1_model.h"
#include "engine/train/batches.h"
#include "engine/train/loss_scaler.h"
#include "engine/train/step_graph.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace r1::train {

class CheckpointReader;
}  // namespace r1::train
namespace r1::dist {
class ProcessGroup;
class GradBuckets;
class PeerWatch;
}  // namespace r1::dist
namespace r1::train {

struct StepStats {
  int64_t step = 0;  // steps done after this one
  double loss = 0, loss_main = 0, loss_mtp = 0, loss_balance = 0;
  double lr = 0, grad_norm = 0, ms = 0;
  double allreduce_wait_ms = 0;  // data parallel: time blocked on the gradient all-reduce
  int buckets_early = 0;         // data parallel: buckets whose all-reduce began in backward
  int params_unused = 0;         // data parallel: parameters the loss did not reach (idle experts)
  double arm_ms = 0;             // data parallel: time to find them (autograd graph walk)
  bool skipped = false;
  bool stop = false;  // some rank was asked to stop: every rank stops after this step
  std::vector<std::vector<double>> expert_load;
};

struct EvalStats {
  double loss = 0, perplexity = 0, bits_per_byte = 0;
  int64_t tokens = 0;
};

struct TrainerHooks {
  std::function<bool()> stop_requested;  // checked at step boundaries
  // Called after backward, before unscaling/clipping (fault injection in tests).
  std::function<void(int64_t step, model::R1Model&)> after_backward;
};

struct TrainerOptions {
  int64_t synthetic_tokens = 0;  // > 0: random tokens instead of the corpus (benchmarks)
  // Data parallel: this process's place in the job (r1-worker reads it from the torchrun
  // variables). Unset: a plain single process (no process group).
  std::optional<dist::DistEnv> dist;
  // Data parallel, a peer found dead (no heartbeat, or the rendezvous store gone): write the
  // error and finish events and end the process with exit code 1 — the only way out of a
  // collective that waits for a dead peer (r1-worker). Off: only report it (ranks on threads).
  bool exit_on_peer_lost = false;
};

class Trainer {
 public:
  Trainer(Config cfg, std::shared_ptr<events::EventSink> sink, TrainerHooks hooks = {},
          TrainerOptions options = {});
  ~Trainer();

  // Everything, end to end; never throws: failures become an error and a finish event.
  events::FinishStatus run();

  // The pieces run() uses, public for tests and the bench.
  void setup();  // data, model, optimizer, resume
  StepStats train_step();
  EvalStats evaluate();
  std::string save_checkpoint();  // returns the path

  int64_t step() const { return step_; }
  model::R1Model& model() { return model_; }
  const Config& config() const { return cfg_; }
  const LossScaler& scaler() const { return scaler_; }
  std::string run_dir() const;
  const data::PreparedData& data() const { return *data_; }
  int rank() const { return rank_; }
  int world_size() const { return world_; }
  const torch::Device& device() const { return device_; }  // after setup(): this rank's device
  // Micro-batches replayed from the captured CUDA graph so far (train.cuda_graph).
  int64_t graph_replays() const { return step_graph_ ? step_graph_->replays() : 0; }
  // Data parallel: names of the parameters whose gradient was not ready when the last backward
  // ended (they hold back the bucket overlap; empty when all arrived).
  std::vector<std::string> late_gradients() const;
  size_t gradient_buckets() const;

 private:
  void emit(events::Payload p);
  void log(events::LogLevel level, const std::string& text);
  void setup_corpus(const std::string& tokenizer_path);
  void setup_synthetic();
  void build_optimizer();
  void set_lrs(double factor);
  void resume_from(CheckpointReader& checkpoint);
  void eval_and_emit();
  void setup_dist();
  void allreduce_mean(torch::Tensor& t);  // small float64 vectors (metrics, expert loads)
  std::optional<double> mfu(double tokens_per_s) const;

  Config cfg_;
  std::shared_ptr<events::EventSink> sink_;
  TrainerHooks hooks_;
  TrainerOptions options_;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<data::PreparedData> data_;
  std::unique_ptr<BatchSampler> train_batches_, val_batches_;
  model::R1Model model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optim_;
  std::vector<double> group_lr_;  // peak learning rate per parameter group
  std::vector<torch::Tensor> params_;
  LossScaler scaler_;
  int64_t step_ = 0;
  int64_t tokens_ = 0;
  double best_val_ = std::numeric_limits<double>::quiet_NaN();
  std::optional<int64_t> resumed_from_;
  std::string tokenizer_text_;
  std::string data_fp_;
  torch::Tensor token_bytes_;  // [vocab] bytes per token, built at the first evaluation
  int rank_ = 0, world_ = 1;
  std::unique_ptr<dist::ProcessGroup> pg_;
  std::unique_ptr<dist::GradBuckets> grad_buckets_;
  std::vector<std::string> bucket_param_names_;  // grad_buckets_'s parameters, by index
  std::unique_ptr<dist::PeerWatch> peer_watch_;  // after pg_: gone before rank 0's store
  std::unique_ptr<StepGraph> step_graph_;        // train.cuda_graph, where it applies
  int64_t graph_from_step_ = 0;                  // eager steps before it first warm the caches
  std::atomic<int64_t> step_seen_{0};             // step_, for the peer watch's thread
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

std::string default_cache_dir();

}  // namespace r1::train
