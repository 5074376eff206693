#include "engine/train/trainer.h"

#include "engine/compat/torch_compat.h"
#include "engine/data/corpus.h"
#include "engine/data/data_error.h"
#include "engine/dist/grad_buckets.h"
#include "engine/dist/peer_watch.h"
#include "engine/dist/process_group.h"
#include "engine/model/ops/fused_ops.h"
#include "engine/train/checkpoint.h"
#include "engine/train/fused_adamw.h"
#include "engine/train/schedule.h"
#include "engine/telemetry/telemetry_monitor.h"

#include <chrono>
#include <condition_variable>
#include <thread>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace r1::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace F = torch::nn::functional;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

torch::Device parse_device(const std::string& s) {
  if (s == "cpu") return torch::kCPU;
  if (!compat::cuda_available())
    throw ConfigError("key 'train.device': '" + s + "' requested but " +
                      (compat::kTorchHasCuda ? "no CUDA GPU is visible"
                                     : "this build's LibTorch has no CUDA"));
  return s == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(s);
}

}  // namespace

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/r1-workbench";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/r1-workbench";
  return "/tmp/r1-workbench-cache";
}

Trainer::Trainer(Config cfg, std::shared_ptr<events::EventSink> sink, TrainerHooks hooks,
                 TrainerOptions options)
    : cfg_(std::move(cfg)), sink_(std::move(sink)), hooks_(std::move(hooks)),
      options_(options) {
  if (!sink_) sink_ = std::make_shared<events::NullSink>();
}

Trainer::~Trainer() = default;

std::string Trainer::run_dir() const { return cfg_.run.dir + "/" + cfg_.run.name; }

void Trainer::emit(events::Payload p) {
  // Data parallel: rank 0 reports the run (metrics, evaluations, checkpoints); every rank
  // reports its own logs, errors, GPU and host telemetry and how it finished.
  if (rank_ != 0 && !std::holds_alternative<events::Log>(p) &&
      !std::holds_alternative<events::Error>(p) && !std::holds_alternative<events::Gpu>(p) &&
      !std::holds_alternative<events::Host>(p) && !std::holds_alternative<events::Finish>(p))
    return;
  sink_->emit(events::make_event(std::move(p), cfg_.run.name, rank_));
}

void Trainer::setup_dist() {
  const auto& d = *options_.dist;
  dist::ProcessGroupOptions po;
  if (const char* t = std::getenv("R1_COLLECTIVE_TIMEOUT_S"); t && std::atof(t) > 0)
    po.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::atof(t) * 1000));
  pg_ = dist::create_process_group(d, device_, po);
  if (auto wo = dist::peer_watch_options_from_environment(); wo && d.world_size > 1) {
    peer_watch_ = std::make_unique<dist::PeerWatch>(d, *wo, [this](const std::string& reason) {
      emit(events::Error{reason, "distributed", true});
      if (!options_.exit_on_peer_lost) return;
      events::Finish fin;
      fin.status = events::FinishStatus::Failed;
      fin.step = step_seen_.load();
      fin.seconds = seconds_since(started_);
      emit(fin);
      std::fflush(nullptr);
      std::_Exit(1);
    });
  }
  log(events::LogLevel::Info, std::string("data parallel: rank ") + std::to_string(rank_) + " of " +
                                  std::to_string(world_) + " (" + pg_->backend() + ", local rank " +
                                  std::to_string(d.local_rank) + ", master " + d.master_addr +
                                  ":" + std::to_string(d.master_port) + ")");
}

std::vector<std::string> Trainer::late_gradients() const {
  std::vector<std::string> out;
  if (grad_buckets_)
    for (size_t k : grad_buckets_->last_unready()) out.push_back(bucket_param_names_.at(k));
  return out;
}

size_t Trainer::gradient_buckets() const { return grad_buckets_ ? grad_buckets_->buckets() : 0; }

void Trainer::allreduce_mean(torch::Tensor& t) {
  if (!pg_) return;
  auto buf = t.to(device_, torch::kFloat64).contiguous();
  pg_->allreduce_sum_sync(buf);
  t = buf.to(torch::kCPU) / static_cast<double>(world_);
}

void Trainer::log(events::LogLevel level, const std::string& text) {
  emit(events::Log{level, text});
}

void Trainer::setup() {
  validate(cfg_);
  device_ = parse_device(cfg_.train.device);
  if (options_.dist) {  // WORLD_SIZE=1 too: one rank through the same path (overhead runs)
    rank_ = options_.dist->rank;
    world_ = options_.dist->world_size;
    if (device_.is_cuda()) {  // one GPU per rank: the node's local rank picks it
      device_ = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(options_.dist->local_rank));
      compat::set_current_device(device_);
    }
    setup_dist();
  }
  if (cfg_.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg_.train.threads));
  model::ops::set_kernels_enabled(cfg_.train.kernels);
  torch::manual_seed(static_cast<uint64_t>(cfg_.train.seed));

  const std::string dir = run_dir();
  fs::create_directories(dir + "/checkpoints");

  // Resolve the checkpoint first: a resumed run uses the tokenizer it was trained with.
  std::string resume_path;
  if (!cfg_.checkpoint.resume.empty()) {
    if (cfg_.checkpoint.resume == "latest") {
      auto all = list_checkpoints(dir + "/checkpoints");
      if (all.empty())
        throw CheckpointError("key 'checkpoint.resume' = latest: " + dir +
                              "/checkpoints holds no checkpoint");
      resume_path = all.back();
    } else {
      resume_path = cfg_.checkpoint.resume;
    }
  }
  if (pg_ && !cfg_.checkpoint.resume.empty()) {  // every rank restores rank 0's choice
    if (rank_ == 0) pg_->store_set("resume", resume_path);
    resume_path = pg_->store_get("resume", std::chrono::minutes(10));
    if (!fs::exists(resume_path))
      throw CheckpointError("rank " + std::to_string(rank_) + ": checkpoint " + resume_path +
                            " (chosen by rank 0) is not readable here; data-parallel resume needs "
                            "it on a filesystem every node shares");
  }
  std::string tok_path = cfg_.data.tokenizer.empty() ? dir + "/tokenizer.txt" : cfg_.data.tokenizer;
  // Opened (read and verified) once; the model and optimizer are restored from it below.
  std::unique_ptr<CheckpointReader> checkpoint;
  if (!resume_path.empty()) checkpoint = std::make_unique<CheckpointReader>(resume_path, device_);
  // Data parallel: the first rank of each node prepares the corpus (tokenizer, token cache)
  // while the node's other ranks wait, then read what it cached.
  const int local_rank = options_.dist ? options_.dist->local_rank : 0;
  if (checkpoint && cfg_.data.tokenizer.empty() && local_rank == 0) {
    // The node's other ranks read it only after this rank's "data prepared" below. Replaced
    // atomically: nodes sharing a run folder may write the same file at once.
    const std::string& text = checkpoint->meta().tokenizer_text;
    if (!text.empty() && read_file(tok_path) != text) {
      const std::string tmp = tok_path + ".tmp." + std::to_string(rank_);
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush())
          throw CheckpointError(tmp + ": cannot write the checkpoint's tokenizer: " +
                                std::strerror(errno));
      }
      fs::rename(tmp, tok_path);
    }
  }
  const std::string node_key = "data/" + std::to_string(rank_ - local_rank);
  if (pg_ && local_rank != 0) {
    std::string v = pg_->store_get(node_key, std::chrono::hours(2));
    if (v != "ok")
      throw data::DataError("rank " + std::to_string(rank_) + ": rank " +
                            std::to_string(rank_ - local_rank) + " failed to prepare the data: " + v);
  }
  try {
    if (options_.synthetic_tokens > 0) {
      setup_synthetic();
    } else {
      setup_corpus(tok_path);
    }
  } catch (const std::exception& e) {
    if (pg_ && local_rank == 0) pg_->store_set(node_key, e.what());
    throw;
  }
  if (pg_ && local_rank == 0) pg_->store_set(node_key, "ok");

  const int64_t window = cfg_.data.seq_len + cfg_.model.mtp_depth + 1;
  const size_t n = data_->tokens.size(), split = data_->train_tokens;
  if (split < static_cast<size_t>(window))
    throw data::DataError("corpus: only " + std::to_string(split) +
                          " training tokens, but one window (data.seq_len + model.mtp_depth + 1)"
                          " needs " + std::to_string(window));
  const uint64_t seed = static_cast<uint64_t>(cfg_.train.seed);
  train_batches_ = std::make_unique<BatchSampler>(&data_->tokens, 0, split, window, seed);
  if (n - split >= static_cast<size_t>(cfg_.data.seq_len + 1)) {
    val_batches_ = std::make_unique<BatchSampler>(&data_->tokens, split, n, cfg_.data.seq_len + 1,
                                                  seed);
  } else {
    log(events::LogLevel::Warn, "validation split holds " + std::to_string(n - split) +
                                    " tokens, fewer than one sequence: evaluation is off");
  }

  model_ = model::R1Model(cfg_.model);
  model_->to(device_);
  build_optimizer();
  scaler_ = LossScaler(cfg_.train.precision == "fp16", cfg_.train.loss_scale_init,
                       cfg_.train.scale_window);
  if (checkpoint) resume_from(*checkpoint);
  if (pg_) {
    // Identical replicas from the start, then gradients averaged in buckets during backward.
    std::vector<torch::Tensor> state;
    for (auto& p : model_->parameters()) state.push_back(p.detach());
    for (auto& b : model_->buffers()) state.push_back(b);
    dist::broadcast_tensors(*pg_, state, 0);
    std::vector<torch::Tensor> unique;  // registration order, each tensor once (tied weights)
    for (auto& np : model_->named_parameters()) {
      const auto& p = np.value();
      bool seen = false;
      for (auto& u : unique) seen = seen || u.unsafeGetTensorImpl() == p.unsafeGetTensorImpl();
      if (!seen && p.requires_grad()) {
        unique.push_back(p);
        bucket_param_names_.push_back(np.key());
      }
    }
    grad_buckets_ = std::make_unique<dist::GradBuckets>(*pg_, unique);
    log(events::LogLevel::Debug, "gradient all-reduce in " + std::to_string(grad_buckets_->buckets()) +
                                     " buckets overlapped with backward");
  }
  if (cfg_.train.cuda_graph) {
    std::string why = StepGraph::unsupported_reason();
    if (why.empty() && !device_.is_cuda()) why = "train.device is not CUDA";
    if (why.empty() && cfg_.train.precision != "bf16")
      why = "train.precision is " + cfg_.train.precision +
            " (fp16's loss scale and fp32's expert GEMMs are read on the host; use bf16)";
    if (why.empty() && pg_) why = "data parallel: the gradient all-reduce runs from host hooks";
    if (why.empty()) {
      step_graph_ = std::make_unique<StepGraph>();
      graph_from_step_ = step_ + 2;
      log(events::LogLevel::Info, "train.cuda_graph: each micro-batch's forward and backward is "
                                  "captured at step " + std::to_string(graph_from_step_ + 1) +
                                  " and replayed from then on");
    } else {
      log(events::LogLevel::Warn, "train.cuda_graph is on but not used: " + why);
    }
  }
}

void Trainer::setup_corpus(const std::string& tok_path) {
  data::DataOptions opt;
  opt.paths = cfg_.data.paths.empty() ? data::default_corpus_paths() : cfg_.data.paths;
  if (opt.paths.empty())
    throw data::DataError("data.paths is empty and the default corpus (/usr/share/games/"
                          "fortunes, Debian packages fortunes and fortunes-zh) is not installed");
  opt.vocab_size = static_cast<int>(cfg_.model.vocab_size);
  opt.val_fraction = cfg_.data.val_fraction;
  opt.cache_dir = cfg_.data.cache_dir.empty() ? default_cache_dir() : cfg_.data.cache_dir;
  opt.tokenizer_path = tok_path;
  data_ = std::make_unique<data::PreparedData>(
      data::prepare_data(opt, [this](const std::string& s) { log(events::LogLevel::Info, s); }));
  if (data_->tokenizer.vocab_size() > cfg_.model.vocab_size)
    throw ConfigError("key 'model.vocab_size': " + std::to_string(cfg_.model.vocab_size) +
                      " is smaller than the tokenizer's " +
                      std::to_string(data_->tokenizer.vocab_size()) + " tokens (" + tok_path + ")");
  tokenizer_text_ = read_file(data_->tokenizer_path);
  data_fp_ = hex(data_->tokens.tokenizer_fingerprint()) + "-" +
             hex(data_->tokens.source_fingerprint());
}

void Trainer::setup_synthetic() {
  // Uniform random tokens (for benchmarks): no corpus, a bytes-only tokenizer.
  const std::string dir = run_dir() + "/synthetic";
  fs::create_directories(dir);
  std::vector<int32_t> toks(static_cast<size_t>(options_.synthetic_tokens));
  uint64_t x = static_cast<uint64_t>(cfg_.train.seed);
  for (auto& t : toks)
    t = static_cast<int32_t>((x = splitmix64(x)) % static_cast<uint64_t>(cfg_.model.vocab_size));
  const std::string path = dir + "/tokens.bin";
  data::TokenFile::write(path, toks, static_cast<int>(cfg_.model.vocab_size), 0, 0);
  data_ = std::make_unique<data::PreparedData>();
  data_->tokens = data::TokenFile::open(path);
  data_->train_tokens = toks.size() * 9 / 10;
  data_fp_ = "synthetic";
}

void Trainer::build_optimizer() {
  // Layered learning rates (embedding + head vs body); no weight decay on norms and biases.
  std::vector<torch::Tensor> groups[4];
  for (auto& np : model_->named_parameters()) {
    const auto& name = np.key();
    bool embed = name.rfind("embed.", 0) == 0 || name.rfind("head.", 0) == 0;
    bool no_decay = np.value().dim() < 2;
    groups[(embed ? 0 : 2) + (no_decay ? 1 : 0)].push_back(np.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> pg;
  group_lr_.clear();
  params_.clear();
  const auto& t = cfg_.train;
  for (int g = 0; g < 4; ++g) {
    if (groups[g].empty()) continue;
    double lr = g < 2 ? t.lr_embed : t.lr;
    auto o = std::make_unique<torch::optim::AdamWOptions>(lr);
    o->betas({t.beta1, t.beta2}).eps(t.eps).weight_decay(g % 2 ? 0.0 : t.weight_decay);
    pg.emplace_back(groups[g], std::move(o));
    group_lr_.push_back(lr);
    params_.insert(params_.end(), groups[g].begin(), groups[g].end());
  }
  optim_ = std::make_unique<torch::optim::AdamW>(
      pg, torch::optim::AdamWOptions(t.lr).betas({t.beta1, t.beta2}).eps(t.eps));
}

void Trainer::set_lrs(double factor) {
  auto& groups = optim_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i)
    static_cast<torch::optim::AdamWOptions&>(groups[i].options()).lr(group_lr_[i] * factor);
}

void Trainer::resume_from(CheckpointReader& checkpoint) {
  checkpoint.restore(model_.get(), optim_.get());
  const CheckpointMeta& meta = checkpoint.meta();
  const std::string& path = checkpoint.path();
  step_ = meta.step;
  tokens_ = meta.tokens;
  best_val_ = meta.best_val_loss;
  if (meta.scaler_state.defined()) scaler_.load_state(meta.scaler_state);
  if (meta.rng_cpu.defined()) {
    auto gen = at::detail::getDefaultCPUGenerator();
    compat::set_generator_state(gen, meta.rng_cpu);
  }
  if (meta.data_fingerprint != data_fp_)
    log(events::LogLevel::Warn, "the corpus or tokenizer changed since " + path +
                                    ": resuming on different data");
  resumed_from_ = step_;
  log(events::LogLevel::Info, "resumed from " + path + " at step " + std::to_string(step_));
}

StepStats Trainer::train_step() {
  const auto t0 = Clock::now();
  const auto& t = cfg_.train;
  const bool amp = t.precision != "fp32";
  const auto amp_dtype = t.precision == "fp16" ? torch::kHalf : torch::kBFloat16;
  model_->train();
  const bool graphed = step_graph_ && step_ >= graph_from_step_;
  if (graphed && t.grad_accum == 1) {
    // One micro-batch: the gradients are the graph's own outputs. Dropped before the capture,
    // they are made during its backward in the graph's pool, in memory the forward's
    // activations freed (as in an eager step), and every replay writes them again there.
    // Nothing to zero; kept allocated between steps they would add their size to the peak.
    if (!step_graph_->captured())
      for (auto& p : params_) p.mutable_grad() = torch::Tensor();
  } else if (graphed) {
    // Several micro-batches: the graph accumulates into the .grad tensors it saw at capture:
    // keep them, zeroed in place (LibTorch 2.x's zero_grad() would drop them).
    std::vector<torch::Tensor> grads;
    for (auto& p : params_) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    at::_foreach_zero_(grads);
  } else {
    optim_->zero_grad();
  }

  StepStats s;
  torch::Tensor loss_sum, main_sum, mtp_sum, bal_sum;
  auto add = [](torch::Tensor& acc, const torch::Tensor& v) {
    if (!v.defined()) return;
    auto d = v.detach().to(torch::kFloat64);
    acc = acc.defined() ? acc + d : d;
  };
  auto forward = [&](const torch::Tensor& tokens) {
    if (amp) compat::set_autocast(device_, true, amp_dtype);
    model::LossParts p;
    try {
      p = model_(tokens, t.label_smoothing);
    } catch (...) {
      if (amp) compat::set_autocast(device_, false, amp_dtype);
      throw;
    }
    if (amp) compat::set_autocast(device_, false, amp_dtype);
    return p;
  };
  for (int64_t m = 0; m < t.grad_accum; ++m) {
    auto batch = train_batches_->train_batch(step_, m, cfg_.data.batch_size,
                                             rank_ * cfg_.data.batch_size)
                     .to(device_);
    model::LossParts parts;
    if (graphed) {
      auto body = [&](const torch::Tensor& tokens) {
        auto p = forward(tokens);
        (p.loss / static_cast<double>(t.grad_accum)).backward();  // bf16: no loss scale
        auto keep = [](const torch::Tensor& x) { return x.defined() ? x.detach() : x; };
        return std::vector<torch::Tensor>{keep(p.loss), keep(p.main), keep(p.mtp),
                                          keep(p.balance)};
      };
      const std::vector<torch::Tensor>* out = nullptr;
      if (step_graph_->captured()) {
        out = &step_graph_->replay(batch);
      } else {
        try {
          out = &step_graph_->capture(batch, body);
        } catch (const std::exception& e) {
          throw std::runtime_error(std::string("train.cuda_graph: capturing the step failed (set "
                                               "train.cuda_graph = false): ") + e.what());
        }
      }
      parts = {(*out)[0], (*out)[1], (*out)[2], (*out)[3]};
    } else {
      parts = forward(batch);
      auto scaled = scaler_.scale_loss(parts.loss / static_cast<double>(t.grad_accum));
      if (grad_buckets_ && m == t.grad_accum - 1) grad_buckets_->arm(scaled);
      scaled.backward();
    }
    add(loss_sum, parts.loss);
    add(main_sum, parts.main);
    add(mtp_sum, parts.mtp);
    add(bal_sum, parts.balance);
  }
  if (grad_buckets_) {
    grad_buckets_->finish();
    s.allreduce_wait_ms = grad_buckets_->last_wait_ms();
    s.buckets_early = static_cast<int>(grad_buckets_->last_early());
    s.params_unused = static_cast<int>(grad_buckets_->last_unused());
    s.arm_ms = grad_buckets_->last_arm_ms();
  }
  if (hooks_.after_backward) hooks_.after_backward(step_, model_);

  const bool finite = scaler_.unscale_and_check(params_);
  s.skipped = scaler_.update(finite);
  const double factor =
      lr_factor(step_, t.steps, t.warmup_steps, t.schedule, t.min_lr_ratio);
  set_lrs(factor);
  s.lr = group_lr_.empty() ? 0 : t.lr * factor;
  if (!s.skipped) {
    double max_norm = t.clip_grad > 0 ? t.clip_grad : std::numeric_limits<double>::infinity();
    if (auto norm = fused_adamw_step(*optim_, max_norm)) {  // kernels/adamw on CUDA
      s.grad_norm = *norm;
    } else {
      s.grad_norm = torch::nn::utils::clip_grad_norm_(params_, max_norm);
      optim_->step();
    }
  } else {
    s.grad_norm = std::numeric_limits<double>::quiet_NaN();
  }
  auto moes = model_->moe_layers();
  if (pg_ && !moes.empty()) {  // the router biases move on global loads: identical on every rank
    std::vector<torch::Tensor> loads;
    for (auto& moe : moes) loads.push_back(moe->load);
    auto all = torch::cat(loads);
    allreduce_mean(all);
    int64_t off = 0;
    for (auto& moe : moes) {
      moe->load.copy_(all.narrow(0, off, moe->load.numel()));
      off += moe->load.numel();
    }
  }
  for (auto& moe : moes) {
    auto frac = moe->update_bias(cfg_.model.bias_update_speed).contiguous();
    s.expert_load.emplace_back(frac.data_ptr<double>(), frac.data_ptr<double>() + frac.numel());
  }
  const double inv = 1.0 / static_cast<double>(t.grad_accum);
  auto val = [&](const torch::Tensor& x) { return x.defined() ? x.item<double>() * inv : 0.0; };
  s.loss = val(loss_sum);
  s.loss_main = val(main_sum);
  s.loss_mtp = val(mtp_sum);
  s.loss_balance = val(bal_sum);
  if (pg_) {  // global means, and one agreed stop (ranks get SIGTERM at different moments)
    const bool stop = hooks_.stop_requested && hooks_.stop_requested();
    auto v = torch::tensor({s.loss, s.loss_main, s.loss_mtp, s.loss_balance, stop ? 1.0 : 0.0},
                           torch::kFloat64);
    allreduce_mean(v);
    auto* p = v.data_ptr<double>();
    s.loss = p[0];
    s.loss_main = p[1];
    s.loss_mtp = p[2];
    s.loss_balance = p[3];
    s.stop = p[4] > 0;
  }
  ++step_;
  step_seen_.store(step_);
  tokens_ += world_ * t.grad_accum * cfg_.data.batch_size * cfg_.data.seq_len;
  compat::synchronize(device_);
  s.step = step_;
  s.ms = seconds_since(t0) * 1e3;
  return s;
}

EvalStats Trainer::evaluate() {
  EvalStats e;
  if (!val_batches_) {
    e.loss = e.perplexity = e.bits_per_byte = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  torch::NoGradGuard ng;
  model_->eval();
  const auto& t = cfg_.train;
  const bool amp = t.precision != "fp32";
  const auto amp_dtype = t.precision == "fp16" ? torch::kHalf : torch::kBFloat16;
  const int64_t V = cfg_.model.vocab_size, T = cfg_.data.seq_len;
  if (!token_bytes_.defined()) {  // UTF-8 bytes per token id, for bits per byte
    std::vector<int64_t> lens(static_cast<size_t>(V), 0);
    for (int64_t i = 0; i < data_->tokenizer.vocab_size(); ++i)
      lens[static_cast<size_t>(i)] =
          static_cast<int64_t>(data_->tokenizer.token_bytes(static_cast<int>(i)).size());
    token_bytes_ = torch::tensor(lens, torch::kInt64);
  }
  const auto& len_t = token_bytes_;
  double nll = 0;
  int64_t bytes = 0;
  for (int64_t i = rank_; i < cfg_.eval.batches; i += world_) {  // data parallel: split
    auto batch = val_batches_->fixed_batch(i, cfg_.eval.batches, cfg_.data.batch_size);
    auto targets = batch.narrow(1, 1, T);
    bytes += len_t.index_select(0, targets.reshape({-1})).sum().item<int64_t>();
    batch = batch.to(device_);
    if (amp) compat::set_autocast(device_, true, amp_dtype);
    auto logits = model_->logits(batch.narrow(1, 0, T));
    if (amp) compat::set_autocast(device_, false, amp_dtype);
    nll += F::cross_entropy(logits.to(torch::kFloat32).reshape({-1, V}),
                            targets.reshape({-1}).to(device_),
                            F::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
    e.tokens += targets.numel();
  }
  model_->train();
  if (pg_) {
    auto v = torch::tensor({nll, static_cast<double>(bytes), static_cast<double>(e.tokens)},
                           torch::kFloat64);
    allreduce_mean(v);
    auto* p = v.data_ptr<double>();
    nll = p[0] * world_;
    bytes = std::llround(p[1] * world_);
    e.tokens = std::llround(p[2] * world_);
  }
  e.loss = nll / static_cast<double>(e.tokens);
  e.perplexity = std::exp(e.loss);
  e.bits_per_byte = bytes > 0 ? nll / std::log(2.0) / static_cast<double>(bytes) : 0.0;
  return e;
}

std::string Trainer::save_checkpoint() {
  if (rank_ != 0) return {};  // replicas are identical: rank 0 writes for the job
  const auto t0 = Clock::now();
  CheckpointMeta m;
  m.step = step_;
  m.tokens = tokens_;
  m.best_val_loss = best_val_;
  m.config_toml = to_toml(cfg_);
  m.tokenizer_text = tokenizer_text_;
  m.data_fingerprint = data_fp_;
  m.scaler_state = scaler_.state();
  m.rng_cpu = compat::generator_state(at::detail::getDefaultCPUGenerator());
  const std::string dir = run_dir() + "/checkpoints";
  const std::string path = dir + "/" + checkpoint_name(step_);
  int64_t bytes = r1::train::save_checkpoint(path, *model_, optim_.get(), m);
  prune_checkpoints(dir, cfg_.checkpoint.keep_last);
  emit(events::Checkpoint{step_, path, bytes, seconds_since(t0)});
  return path;
}

void Trainer::eval_and_emit() {
  EvalStats ev = evaluate();
  if (std::isnan(ev.loss)) return;  // no validation split
  if (std::isnan(best_val_) || ev.loss < best_val_) best_val_ = ev.loss;
  emit(events::Eval{step_, ev.loss, ev.perplexity, ev.bits_per_byte, ev.tokens});
}

std::optional<double> Trainer::mfu(double tokens_per_s) const {
  double peak = cfg_.train.peak_tflops * 1e12;
  if (peak <= 0 && device_.is_cuda()) {
    std::string name = compat::device_name(device_);
    bool low = cfg_.train.precision != "fp32";
    if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos)
      peak = low ? 989e12 : 67e12;
    else if (name.find("A100") != std::string::npos)
      peak = low ? 312e12 : 19.5e12;
  }
  if (peak <= 0) return std::nullopt;
  return model_->flops_per_token(cfg_.data.seq_len) * tokens_per_s / peak;
}

events::FinishStatus Trainer::run() {
  const auto t0 = Clock::now();
  events::FinishStatus status = events::FinishStatus::Completed;
  started_ = Clock::now();
  std::string fail_text;
  auto emit_error = [this](events::Error e) {
    std::string text = e.message;
    emit(std::move(e));
    return text;
  };
  try {
    setup();
    if (rank_ == 0) save_config(cfg_, run_dir() + "/config.toml");  // ranks may share run_dir
    auto pc = model_->param_counts();
    events::RunStart rs;
    rs.config = nlohmann::json::object();
    for (const auto& f : config_fields()) {
      std::visit([&](const auto& v) { rs.config[f.key] = v; }, f.get(cfg_));
    }
    rs.versions = {{"r1-workbench", "0.1.0"}, {"libtorch", compat::torch_version()},
                   {"events", std::to_string(events::kSchemaVersion)}};
    rs.device = cfg_.train.device + " (" + compat::device_name(device_) + ")";
    rs.world_size = world_;
    rs.params_total = pc.total;
    rs.params_active = pc.active;
    rs.params_embedding = pc.embedding;
    rs.resumed_from_step = resumed_from_;
    emit(rs);

    // Joined before finish is emitted (end of this scope): no telemetry after it.
    telemetry::TelemetryMonitor monitor(
        device_.is_cuda() ? std::optional<int>(device_.has_index() ? device_.index() : 0)
                          : std::nullopt,
        [this](events::Payload p) { emit(std::move(p)); });
    if (!monitor.gpu_off_reason().empty())
      log(events::LogLevel::Info, "GPU telemetry off: " + monitor.gpu_off_reason() +
                                      " (CPU and RAM only)");

    const auto& t = cfg_.train;
    int64_t last_eval = -1, last_ckpt = resumed_from_ ? *resumed_from_ : -1;
    while (step_ < t.steps) {
      if (!pg_ && hooks_.stop_requested && hooks_.stop_requested()) {
        status = events::FinishStatus::Stopped;
        log(events::LogLevel::Info, "stop requested at step " + std::to_string(step_));
        break;
      }
      StepStats s = train_step();
      if (s.step % t.log_every == 0 || s.step == t.steps) {
        events::Step e;
        e.step = s.step;
        e.tokens = tokens_;
        e.loss = s.loss;
        e.loss_main = s.loss_main;
        if (cfg_.model.mtp_depth > 0) e.loss_mtp = s.loss_mtp;
        if (cfg_.model.balance_loss_alpha > 0) e.loss_balance = s.loss_balance;
        e.lr = s.lr;
        e.grad_norm = s.grad_norm;
        const double tok = static_cast<double>(world_ * t.grad_accum * cfg_.data.batch_size *
                                               cfg_.data.seq_len);
        e.tokens_per_s = tok / (s.ms / 1e3);
        e.mfu = mfu(e.tokens_per_s);
        if (scaler_.enabled()) e.loss_scale = scaler_.scale();
        e.skipped = scaler_.skipped();
        e.step_ms = s.ms;
        e.expert_load = s.expert_load;
        double bias_abs = 0;
        for (auto& moe : model_->moe_layers())
          bias_abs = std::max(bias_abs, moe->gate->bias.abs().max().item<double>());
        if (!s.expert_load.empty()) e.router_bias_abs = bias_abs;
        emit(e);
      }
      if (!std::isfinite(s.loss) && !scaler_.enabled())
        log(events::LogLevel::Warn, "non-finite loss at step " + std::to_string(s.step) +
                                        ": the step was skipped");
      if (cfg_.eval.every > 0 && step_ % cfg_.eval.every == 0) {
        eval_and_emit();
        last_eval = step_;
      }
      if (cfg_.checkpoint.every > 0 && step_ % cfg_.checkpoint.every == 0) {
        save_checkpoint();
        last_ckpt = step_;
      }
      if (s.stop) {
        status = events::FinishStatus::Stopped;
        log(events::LogLevel::Info, "stop requested: every rank stops at step " +
                                        std::to_string(step_));
        break;
      }
    }
    if (last_eval != step_ && status == events::FinishStatus::Completed && step_ > 0)
      eval_and_emit();
    if (last_ckpt != step_) save_checkpoint();
  } catch (const c10::Error& e) {
    status = events::FinishStatus::Failed;
    fail_text = emit_error(events::Error{e.what_without_backtrace(), "libtorch", true});
  } catch (const ConfigError& e) {
    status = events::FinishStatus::Failed;
    fail_text = emit_error(events::Error{e.what(), "config", true});
  } catch (const data::DataError& e) {
    status = events::FinishStatus::Failed;
    fail_text = emit_error(events::Error{e.what(), "data", true});
  } catch (const CheckpointError& e) {
    status = events::FinishStatus::Failed;
    fail_text = emit_error(events::Error{e.what(), "checkpoint", true});
  } catch (const dist::DistError& e) {
    status = events::FinishStatus::Failed;
    fail_text = emit_error(events::Error{e.what(), "distributed", true});
  } catch (const std::exception& e) {
    status = events::FinishStatus::Failed;
    fail_text = emit_error(events::Error{e.what(), "internal", true});
  }
  if (peer_watch_) {  // peers learn of a failure at once; a clean end is marked done
    if (status == events::FinishStatus::Failed)
      peer_watch_->fail(fail_text);
    else
      peer_watch_->finish();
  }
  events::Finish fin;
  fin.status = status;
  fin.step = step_;
  fin.seconds = seconds_since(t0);
  if (!std::isnan(best_val_)) fin.best_val_loss = best_val_;
  emit(fin);
  return status;
}

}  // namespace r1::train
