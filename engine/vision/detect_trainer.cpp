#include "engine/vision/detect_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include "engine/compat/torch_compat.h"
#include "engine/telemetry/telemetry_monitor.h"
#include "engine/train/checkpoint.h"
#include "engine/train/schedule.h"
#include "engine/vision/vision_error.h"

namespace r1::vision {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFingerprint = "r1-detect v1";

torch::Device parse_device(const std::string& s) {
  return s == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(s);
}

std::string default_path(const std::string& given, const std::string& root, const char* name) {
  return given.empty() ? (fs::path(root) / name).string() : given;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

DetectTrainer::DetectTrainer(DetectConfig cfg, std::shared_ptr<events::EventSink> sink,
                             DetectTrainerHooks hooks)
    : cfg_(std::move(cfg)), sink_(std::move(sink)), hooks_(std::move(hooks)) {
  if (!sink_) sink_ = std::make_shared<events::NullSink>();
}

DetectTrainer::~DetectTrainer() = default;

std::string DetectTrainer::run_dir() const {
  return (fs::path(cfg_.train.out_dir) / cfg_.train.run_name).string();
}

void DetectTrainer::emit(events::Payload p) {
  sink_->emit(events::make_event(std::move(p), cfg_.train.run_name));
}

void DetectTrainer::log(events::LogLevel level, const std::string& text) {
  emit(events::Log{level, text});
}

void DetectTrainer::setup() {
  validate(cfg_);
  if (cfg_.data.root.empty()) throw DetectConfigError("config: key 'data.root': must be set");
  device_ = parse_device(cfg_.train.device);
  if (device_.is_cuda() && !compat::cuda_available())
    throw DetectConfigError("config: key 'train.device': " + cfg_.train.device +
                            " asked for, but this LibTorch sees no CUDA device");
  compat::set_current_device(device_);
  if (cfg_.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg_.train.threads));
  torch::manual_seed(static_cast<uint64_t>(cfg_.train.seed));

  // Data: annotations, scans, the held-out split.
  const auto annotations =
      read_luna_annotations(default_path(cfg_.data.annotations, cfg_.data.root, "annotations.csv"));
  const std::string excl = default_path(cfg_.data.excluded, cfg_.data.root,
                                        "annotations_excluded.csv");
  if (!cfg_.data.excluded.empty() || fs::exists(excl)) excluded_ = read_luna_annotations(excl);
  auto scans = load_scan_records(cfg_.data.root, annotations);
  if (!cfg_.data.val_root.empty()) {
    train_ = std::move(scans);
    val_ = load_scan_records(cfg_.data.val_root, annotations);
  } else if (cfg_.data.val_scans > 0) {
    if (static_cast<int64_t>(scans.size()) <= cfg_.data.val_scans)
      throw DetectConfigError("config: key 'data.val_scans': " + std::to_string(cfg_.data.val_scans) +
                              " held out of " + std::to_string(scans.size()) +
                              " scans leaves none to train on");
    val_.assign(scans.end() - cfg_.data.val_scans, scans.end());
    train_.assign(scans.begin(), scans.end() - cfg_.data.val_scans);
  } else {
    train_ = scans;
    val_ = scans;
  }
  // Fixed slices for the held-out loss: each nodule's centre slice and as many random ones.
  std::mt19937_64 rng(static_cast<uint64_t>(cfg_.train.seed) ^ 0x9e3779b97f4a7c15ull);
  VolumeCache probe(1);
  for (size_t s = 0; s < val_.size(); ++s) {
    const auto vol = probe.get(val_[s].scan.path);
    const auto& g = vol->geometry;
    std::set<int64_t> zs;
    for (const auto& n : val_[s].nodules)
      zs.insert(std::clamp<int64_t>(std::llround(g.world_to_index(n.center).z), 0, g.size[2] - 1));
    const size_t want = std::max<size_t>(1, zs.size());
    for (size_t i = 0; i < want; ++i)
      zs.insert(std::uniform_int_distribution<int64_t>(0, g.size[2] - 1)(rng));
    for (int64_t z : zs) val_slices_.emplace_back(s, z);
  }
  sampler_ = std::make_unique<SliceSampler>(train_, cfg_, static_cast<uint64_t>(cfg_.train.seed));

  // Model and optimizer: no weight decay on norms and biases.
  net_ = DetectorNet(cfg_.model, cfg_.input.context_slices);
  net_->to(device_);
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : net_->named_parameters())
    (p.value().dim() > 1 ? decay : no_decay).push_back(p.value());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(cfg_.train.lr)
                                     .weight_decay(cfg_.train.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(cfg_.train.lr).weight_decay(0)));
  optim_ = std::make_unique<torch::optim::AdamW>(std::move(groups),
                                                 torch::optim::AdamWOptions(cfg_.train.lr));

  // Mixed precision: autocast on CUDA only; the loss scaler only for fp16.
  const auto& prec = cfg_.train.precision;
  autocast_ = device_.is_cuda() && prec != "fp32";
  amp_dtype_ = prec == "fp16" ? at::kHalf : at::kBFloat16;
  scaler_ = train::LossScaler(autocast_ && prec == "fp16", cfg_.train.loss_scale_init,
                              cfg_.train.scale_window);
  if (!device_.is_cuda() && prec != "fp32")
    log(events::LogLevel::Warn, "train.precision = " + prec + " applies on CUDA only; running fp32 on CPU");

  detector_ = std::make_unique<Detector>(cfg_, net_, device_);

  if (cfg_.train.resume) {
    const auto ckpts = train::list_checkpoints(run_dir());
    if (!ckpts.empty()) {
      train::CheckpointReader reader(ckpts.back(), device_);
      if (reader.meta().data_fingerprint != kFingerprint)
        throw train::CheckpointError(ckpts.back() + ": not a detector checkpoint");
      reader.restore(net_.ptr().get(), optim_.get());
      step_ = reader.meta().step;
      images_ = reader.meta().tokens;
      best_val_ = reader.meta().best_val_loss;
      if (reader.meta().scaler_state.defined()) scaler_.load_state(reader.meta().scaler_state);
      if (reader.meta().rng_cpu.defined()) {
        auto gen = at::detail::getDefaultCPUGenerator();
        compat::set_generator_state(gen, reader.meta().rng_cpu);
      }
      resumed_from_ = step_;  // the sampler seeks to each step itself: nothing to restore
    }
  }
  last_size_ = step_ > 0 ? cfg_.size_at(step_ - 1) : 0;
}

DetectStepStats DetectTrainer::train_step() {
  const auto t0 = std::chrono::steady_clock::now();
  DetectStepStats st;
  st.size = cfg_.size_at(step_);
  const double factor = train::lr_factor(step_, cfg_.train.steps, cfg_.train.warmup_steps,
                                         cfg_.train.schedule, cfg_.train.min_lr_ratio);
  st.lr = cfg_.train.lr * factor;
  for (auto& g : optim_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(st.lr);

  net_->train();
  sampler_->seek(step_);
  const auto batch = sampler_->next(cfg_.train.batch_size, st.size);
  const auto x = batch.images.to(device_);
  if (autocast_) compat::set_autocast(device_, true, amp_dtype_);
  DetectorOutput out;
  try {
    out = net_->forward(x);
  } catch (...) {
    if (autocast_) compat::set_autocast(device_, false, amp_dtype_);
    throw;
  }
  if (autocast_) compat::set_autocast(device_, false, amp_dtype_);
  const auto targets = make_targets(batch.objects, out.heatmap.size(2), out.heatmap.size(3),
                                    DetectorNetImpl::kStride, cfg_.head);
  const auto loss = detection_loss(out.heatmap, out.size, out.offset, targets, cfg_.head);
  optim_->zero_grad();
  scaler_.scale_loss(loss.total).backward();

  std::vector<torch::Tensor> params;
  for (const auto& p : net_->parameters())
    if (p.grad().defined()) params.push_back(p);
  const bool finite = scaler_.unscale_and_check(params);
  double norm = std::numeric_limits<double>::quiet_NaN();
  if (finite) {
    const double max_norm =
        cfg_.train.clip_grad > 0 ? cfg_.train.clip_grad : std::numeric_limits<double>::infinity();
    norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
  }
  st.skipped = scaler_.update(finite);
  if (!st.skipped) optim_->step();

  ++step_;
  images_ += cfg_.train.batch_size;
  st.step = step_;
  st.loss = loss.total.item<double>();
  st.loss_heatmap = loss.heatmap.item<double>();
  st.loss_size = loss.size.item<double>();
  st.loss_offset = loss.offset.item<double>();
  st.grad_norm = norm;
  compat::synchronize(device_);
  st.ms = 1000 * seconds_since(t0);
  return st;
}

DetectEvalStats DetectTrainer::evaluate() {
  DetectEvalStats e;
  const int64_t size = cfg_.size_at(std::max<int64_t>(0, step_ - 1));
  torch::NoGradGuard no_grad;
  net_->eval();
  double sum = 0;
  int64_t batches = 0;
  for (size_t i = 0; i < val_slices_.size(); i += static_cast<size_t>(cfg_.train.batch_size)) {
    std::vector<torch::Tensor> imgs;
    std::vector<std::vector<Section>> objs;
    for (size_t j = i; j < std::min(val_slices_.size(), i + static_cast<size_t>(cfg_.train.batch_size)); ++j) {
      const auto& rec = val_[val_slices_[j].first];
      const auto vol = sampler_->cache().get(rec.scan.path);
      const auto& g = vol->geometry;
      const View view = fit_view(g.size[0], g.size[1], size);
      const int64_t z = val_slices_[j].second;
      imgs.push_back(render_view(slice_stack(*vol, z, cfg_.input.context_slices), view, size,
                                 cfg_.input.hu_min, cfg_.input.hu_max));
      std::vector<Section> o;
      for (const auto& s : sections_at(g, rec.nodules, z, cfg_.head.min_section))
        o.push_back(view.to_output(s));
      objs.push_back(std::move(o));
    }
    const auto out = net_->forward(torch::stack(imgs).to(device_));
    const auto t = make_targets(objs, out.heatmap.size(2), out.heatmap.size(3),
                                DetectorNetImpl::kStride, cfg_.head);
    sum += detection_loss(out.heatmap, out.size, out.offset, t, cfg_.head).total.item<double>();
    ++batches;
  }
  e.loss = batches ? sum / static_cast<double>(batches) : std::numeric_limits<double>::quiet_NaN();
  e.detection = evaluate_detector(*detector_, val_, excluded_, sampler_->cache(), size);
  net_->train();
  return e;
}

void DetectTrainer::eval_and_emit() {
  const auto t0 = std::chrono::steady_clock::now();
  const auto e = evaluate();
  if (std::isfinite(e.loss) && !(e.loss >= best_val_)) best_val_ = e.loss;
  events::Eval ev;
  ev.step = step_;
  ev.loss = e.loss;
  ev.perplexity = std::numeric_limits<double>::quiet_NaN();
  ev.bits_per_byte = std::numeric_limits<double>::quiet_NaN();
  ev.tokens = e.detection.slices;
  ev.metrics = {{"map50", e.detection.map50},
                {"cpm", e.detection.cpm},
                {"sensitivity_at_1fp", e.detection.sens_at_1fp},
                {"nodules", e.detection.nodules},
                {"detected_nodules", e.detection.detected_nodules},
                {"candidates", e.detection.candidates},
                {"scans", e.detection.scans},
                {"seconds", seconds_since(t0)}};
  emit(ev);
}

std::string DetectTrainer::save_checkpoint() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dir = run_dir();
  fs::create_directories(dir);
  train::CheckpointMeta m;
  m.step = step_;
  m.tokens = images_;
  m.best_val_loss = best_val_;
  m.config_toml = detect_config_to_toml(cfg_);
  m.data_fingerprint = kFingerprint;
  m.scaler_state = scaler_.state();
  m.rng_cpu = compat::generator_state(at::detail::getDefaultCPUGenerator());
  const std::string path = (fs::path(dir) / train::checkpoint_name(step_)).string();
  const int64_t bytes = train::save_checkpoint(path, *net_, optim_.get(), m);
  train::prune_checkpoints(dir, cfg_.train.keep_checkpoints);
  emit(events::Checkpoint{step_, path, bytes, seconds_since(t0)});
  return path;
}

events::FinishStatus DetectTrainer::run() {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<telemetry::TelemetryMonitor> monitor;  // gpu and host events, 1 Hz
  auto finish = [&](events::FinishStatus s) {
    monitor.reset();  // joined: no telemetry after finish
    events::Finish f;
    f.status = s;
    f.step = step_;
    f.seconds = seconds_since(t0);
    if (std::isfinite(best_val_)) f.best_val_loss = best_val_;
    emit(f);
    return s;
  };
  try {
    setup();
    events::RunStart rs;
    rs.config = detect_config_to_json(cfg_);
    rs.versions = {{"r1-workbench", "0.1.0"}, {"libtorch", compat::torch_version()}};
    rs.device = device_.str();
    rs.params_total = parameter_count(*net_);
    rs.params_active = rs.params_total;
    rs.resumed_from_step = resumed_from_;
    emit(rs);
    monitor = std::make_unique<telemetry::TelemetryMonitor>(
        device_.is_cuda() ? std::optional<int>(device_.has_index() ? device_.index() : 0)
                          : std::nullopt,
        [this](events::Payload p) { emit(std::move(p)); });
    if (!monitor->gpu_off_reason().empty())
      log(events::LogLevel::Info, "GPU telemetry off: " + monitor->gpu_off_reason());
    log(events::LogLevel::Info,
        "detector: " + std::to_string(train_.size()) + " training scans, " +
            std::to_string(val_.size()) + " evaluation scans" +
            (cfg_.data.val_scans == 0 && cfg_.data.val_root.empty() ? " (the training scans)" : ""));
    int64_t last_ckpt = step_, last_eval = -1;
    auto window_t0 = std::chrono::steady_clock::now();
    int64_t window_images = 0;
    while (step_ < cfg_.train.steps) {
      if (hooks_.stop_requested && hooks_.stop_requested()) {
        if (last_ckpt != step_) save_checkpoint();
        return finish(events::FinishStatus::Stopped);
      }
      const int64_t size = cfg_.size_at(step_);
      if (size != last_size_) {
        log(events::LogLevel::Info,
            "progressive resize: input " +
                (last_size_ ? std::to_string(last_size_) + " -> " : std::string()) +
                std::to_string(size) + " px at step " + std::to_string(step_));
        last_size_ = size;
      }
      const auto st = train_step();
      window_images += cfg_.train.batch_size;
      if (step_ % cfg_.train.log_every == 0 || step_ == cfg_.train.steps) {
        events::Step ev;
        ev.step = step_;
        ev.tokens = images_;  // images (2D samples) for the detector: EVENTS.md
        ev.loss = st.loss;
        ev.lr = st.lr;
        ev.grad_norm = st.grad_norm;
        ev.tokens_per_s = window_images / std::max(1e-9, seconds_since(window_t0));
        if (scaler_.enabled()) ev.loss_scale = scaler_.scale();
        ev.skipped = scaler_.skipped();
        ev.step_ms = st.ms;
        emit(ev);
        window_t0 = std::chrono::steady_clock::now();
        window_images = 0;
      }
      if (!std::isfinite(st.loss) && !scaler_.enabled())
        throw std::runtime_error("non-finite loss at step " + std::to_string(step_));
      if (cfg_.train.eval_every > 0 && step_ % cfg_.train.eval_every == 0) {
        eval_and_emit();
        last_eval = step_;
      }
      if (cfg_.train.checkpoint_every > 0 && step_ % cfg_.train.checkpoint_every == 0) {
        save_checkpoint();
        last_ckpt = step_;
      }
    }
    if (last_eval != step_) eval_and_emit();
    if (last_ckpt != step_) save_checkpoint();
    return finish(events::FinishStatus::Completed);
  } catch (const c10::Error& e) {
    emit(events::Error{"detector training failed", e.what_without_backtrace(), true});
  } catch (const std::exception& e) {
    emit(events::Error{"detector training failed", e.what(), true});
  }
  return finish(events::FinishStatus::Failed);
}

}  // namespace r1::vision
