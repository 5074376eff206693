#pragma once
// The detector's training loop on the LM trainer's machinery and event stream: AdamW with
// warmup + cosine, autocast (bf16/fp16) with the LossScaler on CUDA, gradient clipping, the
// progressive resize schedule, evaluation (mAP@0.5, CPM) every N steps, atomic CRC-checked
// checkpoints, and run_start / step / eval / checkpoint / log / error / finish events.
#include <torch/torch.h>

#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/events/sink.h"
#include "engine/train/loss_scaler.h"
#include "engine/vision/detect_config.h"
#include "engine/vision/detect_data.h"
#include "engine/vision/detect_infer.h"
#include "engine/vision/detect_model.h"

namespace r1::vision {

struct DetectStepStats {
  int64_t step = 0;  // steps done after this one
  int64_t size = 0;  // input side used
  double loss = 0, loss_heatmap = 0, loss_size = 0, loss_offset = 0;
  double lr = 0, grad_norm = 0, ms = 0;
  bool skipped = false;
};

struct DetectEvalStats {
  double loss = 0;  // detection loss on fixed held-out slices (no augmentation)
  DetectEvaluation detection;
};

struct DetectTrainerHooks {
  std::function<bool()> stop_requested;  // polled at step boundaries
};

class DetectTrainer {
 public:
  DetectTrainer(DetectConfig cfg, std::shared_ptr<events::EventSink> sink,
                DetectTrainerHooks hooks = {});
  ~DetectTrainer();

  // Everything, end to end; never throws: a failure becomes an error and a finish event.
  events::FinishStatus run();

  // The pieces run() uses, public for tests.
  void setup();  // scans, model, optimizer, resume
  DetectStepStats train_step();
  DetectEvalStats evaluate();
  std::string save_checkpoint();  // returns the path

  int64_t step() const { return step_; }
  DetectorNet& net() { return net_; }
  Detector& detector() { return *detector_; }
  const DetectConfig& config() const { return cfg_; }
  const std::vector<ScanRecord>& train_scans() const { return train_; }
  const std::vector<ScanRecord>& val_scans() const { return val_; }
  std::string run_dir() const;

 private:
  void emit(events::Payload p);
  void log(events::LogLevel level, const std::string& text);
  void eval_and_emit();

  DetectConfig cfg_;
  std::shared_ptr<events::EventSink> sink_;
  DetectTrainerHooks hooks_;
  torch::Device device_{torch::kCPU};
  bool autocast_ = false;
  at::ScalarType amp_dtype_ = at::kFloat;
  std::vector<ScanRecord> train_, val_;
  std::vector<LunaAnnotation> excluded_;
  std::vector<std::pair<size_t, int64_t>> val_slices_;  // (val scan, z) for the eval loss
  std::unique_ptr<SliceSampler> sampler_;
  DetectorNet net_{nullptr};
  std::unique_ptr<Detector> detector_;
  std::unique_ptr<torch::optim::AdamW> optim_;
  train::LossScaler scaler_;
  int64_t step_ = 0;
  int64_t images_ = 0;
  int64_t last_size_ = 0;
  double best_val_ = std::numeric_limits<double>::quiet_NaN();
  std::optional<int64_t> resumed_from_;
};

}  // namespace r1::vision
