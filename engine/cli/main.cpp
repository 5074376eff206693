// r1-worker: the headless engine. train | eval | sample | info | bench
#include "engine/cli/cluster_cmd.h"
#include "engine/cli/detect_cmd.h"
#include "engine/cli/kernel_profile.h"
#include "engine/cli/progress.h"
#include "engine/compat/torch_compat.h"
#include "engine/config/config.h"
#include "engine/data/data_error.h"
#include "engine/dist/dist_env.h"
#include "engine/events/event.h"
#include "engine/events/sink.h"
#include "engine/train/checkpoint.h"
#include "engine/train/generate.h"
#include "engine/train/trainer.h"

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct ConfigArgs {
  std::string config;
  std::string preset;
  std::vector<std::string> sets;
  void add(CLI::App* app) {
    app->add_option("-c,--config", config, "Experiment TOML file")->check(CLI::ExistingFile);
    app->add_option("--preset", preset, "Model preset (r1-nano, r1-mini, r1-mini-dense, r1-small)");
    app->add_option("--set", sets, "Override a key: --set train.steps=500 (repeatable)")
        ->allow_extra_args(false);
  }
  r1::Config load() const {
    std::vector<std::string> ov;
    if (!preset.empty()) ov.push_back("model.preset=" + preset);
    ov.insert(ov.end(), sets.begin(), sets.end());
    return config.empty() ? r1::default_config(ov) : r1::load_config(config, ov);
  }
};

int cmd_train(const ConfigArgs& ca, bool jsonl, bool quiet) {
  r1::Config cfg = ca.load();
  // Data parallel when launched with the torchrun variables (RANK, WORLD_SIZE, MASTER_ADDR …).
  r1::train::TrainerOptions opts;
  opts.exit_on_peer_lost = true;  // the way out of a collective stuck on a dead peer
  opts.dist = r1::dist::dist_env_from_environment();
  const int rank = opts.dist ? opts.dist->rank : 0;
  auto fan = std::make_shared<r1::events::FanoutSink>();
  std::filesystem::create_directories(cfg.run.dir + "/" + cfg.run.name);
  const std::string log_name = rank == 0 ? "events.jsonl" : "events.rank" + std::to_string(rank) + ".jsonl";
  fan->add(std::make_shared<r1::events::FileSink>(cfg.run.dir + "/" + cfg.run.name + "/" + log_name,
                                                  /*append=*/!cfg.checkpoint.resume.empty()));
  if (jsonl) fan->add(std::make_shared<r1::events::JsonlSink>(std::cout));
  if (!quiet && rank == 0) {
    fan->add(std::make_shared<r1::cli::ProgressSink>(cfg.train.steps));
  } else {  // quiet still says why a run failed
    fan->add(std::make_shared<r1::events::CallbackSink>([](const r1::events::Event& e) {
      if (auto* err = std::get_if<r1::events::Error>(&e.payload))
        std::fprintf(stderr, "r1-worker: %s error: %s\n", err->cause.c_str(), err->message.c_str());
    }));
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  r1::train::TrainerHooks hooks;
  hooks.stop_requested = [] { return g_stop.load(); };
  r1::train::Trainer trainer(cfg, fan, hooks, opts);
  auto st = trainer.run();
  return st == r1::events::FinishStatus::Failed ? 1 : (st == r1::events::FinishStatus::Stopped ? 130 : 0);
}

int cmd_eval(const std::string& ckpt, const std::vector<std::string>& sets, bool jsonl) {
  auto lm_meta = r1::train::load_checkpoint(ckpt, nullptr, nullptr);
  std::vector<std::string> ov = sets;
  ov.push_back("checkpoint.resume=" + ckpt);
  r1::Config cfg = r1::config_from_string(lm_meta.config_toml, ckpt + " (embedded config)", ov);
  r1::train::Trainer trainer(cfg, std::make_shared<r1::events::NullSink>());
  trainer.setup();
  auto e = trainer.evaluate();
  r1::events::Eval ev{trainer.step(), e.loss, e.perplexity, e.bits_per_byte, e.tokens};
  if (jsonl) std::cout << r1::events::encode(r1::events::make_event(ev, cfg.run.name)) << "\n";
  std::printf("step %lld: val loss %.4f  perplexity %.2f  %.4f bits/byte  (%lld tokens)\n",
              static_cast<long long>(ev.step), ev.loss, ev.perplexity, ev.bits_per_byte,
              static_cast<long long>(ev.tokens));
  return 0;
}

int cmd_sample(const std::string& ckpt, const std::vector<std::string>& sets,
               const std::string& prompt, const r1::train::SampleOptions& so, bool jsonl) {
  auto lm = r1::train::load_for_inference(ckpt, sets);
  std::string text = r1::train::generate(lm.model, lm.tokenizer, prompt, so, lm.device);
  if (jsonl) {
    r1::events::Sample s;
    s.step = lm.step;
    s.prompt = prompt;
    s.text = text;
    std::cout << r1::events::encode(r1::events::make_event(s, lm.config.run.name)) << "\n";
  } else {
    std::cout << prompt << text << "\n";
  }
  return 0;
}

int cmd_info(const ConfigArgs& ca, bool reference, bool toml) {
  if (reference) {
    std::cout << r1::config_reference_markdown();
    return 0;
  }
  r1::Config cfg = ca.load();
  if (toml) {
    std::cout << r1::to_toml(cfg);
    return 0;
  }
  r1::model::R1Model m(cfg.model);
  auto pc = m->param_counts();
  std::printf("preset            %s\n", cfg.model.preset.c_str());
  std::printf("parameters        %lld total (%.1fM)\n", static_cast<long long>(pc.total),
              pc.total / 1e6);
  std::printf("active per token  %lld (%.1fM)\n", static_cast<long long>(pc.active),
              pc.active / 1e6);
  std::printf("embedding         %lld (%s)\n", static_cast<long long>(pc.embedding),
              cfg.model.tie_embeddings ? "tied with the head" : "plus an untied head");
  std::printf("mtp modules       %lld\n", static_cast<long long>(pc.mtp));
  std::printf("train FLOPs/token %.3g at seq %lld\n", m->flops_per_token(cfg.data.seq_len),
              static_cast<long long>(cfg.data.seq_len));
  std::printf("libtorch          %s (CUDA %s)\n", r1::compat::torch_version().c_str(),
              r1::compat::cuda_available() ? "available" : "not available");
  return 0;
}

int cmd_bench(const ConfigArgs& ca, int64_t steps, int64_t warmup, const std::string& profile) {
  r1::Config cfg = ca.load();
  cfg.run.name = "bench-" + cfg.model.preset;
  cfg.eval.every = 0;
  cfg.checkpoint.every = 0;
  const int64_t profile_steps = profile.empty() ? 0 : 3;
  cfg.train.steps = warmup + steps + profile_steps;
  cfg.train.warmup_steps = 0;
  const int64_t tokens = std::max<int64_t>(1 << 20, (cfg.data.seq_len + 8) * 64);
  r1::train::TrainerOptions opt;
  opt.synthetic_tokens = tokens;
  opt.dist = r1::dist::dist_env_from_environment();  // data-parallel benchmarks (torchrun vars)
  r1::train::Trainer trainer(cfg, std::make_shared<r1::events::NullSink>(), {}, opt);
  trainer.setup();
  const torch::Device dev = trainer.device();  // a data-parallel rank's own GPU
  double loss0 = 0;
  // Peak over the warm-up too: a CUDA graph (train.cuda_graph) takes its memory at capture.
  r1::compat::cuda_reset_peak(dev);
  for (int64_t i = 0; i < warmup; ++i) loss0 = trainer.train_step().loss;
  auto t0 = std::chrono::steady_clock::now();
  double loss = 0, wait_ms = 0, early = 0, unused = 0, arm_ms = 0;
  for (int64_t i = 0; i < steps; ++i) {
    auto st = trainer.train_step();
    loss = st.loss;
    wait_ms += st.allreduce_wait_ms;
    early += st.buckets_early;
    unused += st.params_unused;
    arm_ms += st.arm_ms;
  }
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double tok = static_cast<double>(trainer.world_size() * steps * cfg.train.grad_accum *
                                         cfg.data.batch_size * cfg.data.seq_len);
  const double tps = tok / sec;
  const double flops = trainer.model()->flops_per_token(cfg.data.seq_len) * tps;
  auto pc = trainer.model()->param_counts();
  int64_t peak = r1::compat::cuda_peak_bytes(dev);
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("bench %s  device %s  precision %s  batch %lld x seq %lld  steps %lld (+%lld warmup)\n",
              cfg.model.preset.c_str(), r1::compat::device_name(dev).c_str(),
              cfg.train.precision.c_str(), static_cast<long long>(cfg.data.batch_size),
              static_cast<long long>(cfg.data.seq_len), static_cast<long long>(steps),
              static_cast<long long>(warmup));
  std::printf("params %.1fM total, %.1fM active\n", pc.total / 1e6, pc.active / 1e6);
  std::printf("tokens/s   %.0f%s\n", tps, trainer.world_size() > 1 ? " (all ranks)" : "");
  if (opt.dist)
    std::printf("data parallel: rank %d of %d, all-reduce wait %.2f ms/step after backward\n",
                trainer.rank(), trainer.world_size(), wait_ms / static_cast<double>(steps));
  if (opt.dist) {
    const auto late = trainer.late_gradients();
    std::string names;
    for (size_t i = 0; i < late.size() && i < 6; ++i) names += (i ? ", " : "") + late[i];
    if (late.size() > 6) names += ", …";
    std::printf("overlap: %.1f gradient buckets of %zu started during backward (%.1f parameters "
                "unused per step, found in %.2f ms); %zu gradients not ready when it ended%s%s\n",
                early / static_cast<double>(steps), trainer.gradient_buckets(),
                unused / static_cast<double>(steps), arm_ms / static_cast<double>(steps),
                late.size(), late.empty() ? "" : ": ", names.c_str());
  }
  std::printf("TFLOP/s    %.2f (model FLOPs: 6·N_active + attention)\n", flops / 1e12);
  if (cfg.train.peak_tflops > 0)
    std::printf("MFU        %.1f%% of %.0f TFLOP/s\n", 100 * flops / (cfg.train.peak_tflops * 1e12),
                cfg.train.peak_tflops);
  else if (dev.is_cuda())
    std::printf("MFU        %.1f%% of 989 TFLOP/s (H100/H200 dense bf16)\n",
                100 * flops / 989e12);
  if (peak >= 0) std::printf("peak GPU memory  %.2f GiB\n", peak / double(1 << 30));
  std::printf("peak host RSS    %.2f GiB\n", ru.ru_maxrss / double(1 << 20));
  std::printf("loss %.4f -> %.4f\n", loss0, loss);
  if (profile_steps > 0) {
    // After the timed steps, so the profiler's overhead stays out of tokens/s.
    try {
      auto kp = r1::cli::profile_kernels([&] { trainer.train_step(); }, profile_steps, profile, 30);
      std::printf("\nprofile: %lld steps, GPU kernels %.2f ms/step of %.2f ms/step wall "
                  "(under the profiler); trace in %s\n%s",
                  static_cast<long long>(profile_steps), kp.gpu_ms_per_step, kp.wall_ms_per_step,
                  profile.c_str(), kp.table.c_str());
    } catch (const c10::Error& e) {
      std::fprintf(stderr, "r1-worker: bench --profile: %s\n", e.what_without_backtrace());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "r1-worker: bench --profile: %s\n", e.what());
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"r1-worker: trains and runs DeepSeek-R1-style language models (R1 Workbench)"};
  app.require_subcommand(1);
  bool jsonl = false, quiet = false;

  ConfigArgs train_args;
  auto* train = app.add_subcommand("train", "Train (or resume) an experiment");
  train_args.add(train);
  train->add_flag("--jsonl", jsonl, "Also write the event stream to stdout");
  train->add_flag("-q,--quiet", quiet, "No progress bar");

  std::string ckpt;
  std::vector<std::string> sets;
  auto* eval = app.add_subcommand("eval", "Evaluate a checkpoint on its validation split");
  eval->add_option("checkpoint", ckpt, "Checkpoint file")->required();
  eval->add_option("--set", sets, "Override a key of the embedded config");
  eval->add_flag("--jsonl", jsonl, "Print an eval event line too");

  std::string prompt;
  r1::train::SampleOptions so;
  auto* sample = app.add_subcommand("sample", "Generate text from a checkpoint");
  sample->add_option("checkpoint", ckpt, "Checkpoint file")->required();
  sample->add_option("-p,--prompt", prompt, "Prompt text");
  sample->add_option("-n,--tokens", so.max_tokens, "Tokens to generate")->check(CLI::Range(1, 100000));
  sample->add_option("-t,--temperature", so.temperature, "0: greedy")->check(CLI::Range(0.0, 100.0));
  sample->add_option("-k,--top-k", so.top_k, "0: all tokens")->check(CLI::Range(0, 1 << 24));
  sample->add_option("--seed", so.seed, "Sampling seed");
  sample->add_option("--set", sets, "Override a key (e.g. train.device=cuda)");
  sample->add_flag("--jsonl", jsonl, "Print a sample event line");

  ConfigArgs info_args;
  bool reference = false, toml = false;
  auto* info = app.add_subcommand("info", "Parameter counts and FLOPs of a config; the config reference");
  info_args.add(info);
  info->add_flag("--config-reference", reference, "Print every config key as a Markdown table");
  info->add_flag("--toml", toml, "Print the resolved config as TOML");
  // `info --versions` (what `cluster probe` reads) and `cluster ...` (engine/cli/cluster_cmd.h).
  info->add_flag_callback("--versions", [] {
    const bool cuda = r1::compat::cuda_available();
    r1::cli::print_versions({{"libtorch", r1::compat::torch_version()},
                             {"cuda", cuda ? "available" : "unavailable"},
                             {"cuda_devices", std::to_string(cuda ? torch::cuda::device_count() : 0)}});
    throw CLI::RuntimeError(0);
  }, "Print 'key value' lines: r1-worker, libtorch, cuda versions");
  r1::cli::add_cluster_command(app);
  r1::cli::add_detect_command(app);  // engine/cli/detect_cmd.h

  ConfigArgs bench_args;
  int64_t bench_steps = 10, bench_warmup = 3;
  auto* bench = app.add_subcommand("bench", "Time training steps on random tokens");
  bench_args.add(bench);
  bench->add_option("--steps", bench_steps, "Timed steps")->check(CLI::Range(1, 100000));
  bench->add_option("--warmup", bench_warmup, "Untimed steps first")->check(CLI::Range(0, 100000));
  std::string bench_profile;
  bench->add_option("--profile", bench_profile,
                    "After the timed steps, profile 3 more (Kineto): Chrome trace to this file, "
                    "GPU kernels by time to stdout");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*train) return cmd_train(train_args, jsonl, quiet);
    if (*eval) return cmd_eval(ckpt, sets, jsonl);
    if (*sample) return cmd_sample(ckpt, sets, prompt, so, jsonl);
    if (*info) return cmd_info(info_args, reference, toml);
    if (*bench) return cmd_bench(bench_args, bench_steps, bench_warmup, bench_profile);
  } catch (const r1::ConfigError& e) {
    std::fprintf(stderr, "r1-worker: config error: %s\n", e.what());
  } catch (const r1::train::CheckpointError& e) {
    std::fprintf(stderr, "r1-worker: checkpoint error: %s\n", e.what());
  } catch (const r1::data::DataError& e) {
    std::fprintf(stderr, "r1-worker: data error: %s\n", e.what());
  } catch (const r1::dist::DistError& e) {
    std::fprintf(stderr, "r1-worker: distributed setup error: %s\n", e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "r1-worker: libtorch error: %s\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "r1-worker: error: %s\n", e.what());
  }
  return 2;
}
