#include "engine/cli/detect_cmd.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "engine/events/sink.h"
#include "engine/train/checkpoint.h"
#include "engine/vision/detect_config.h"
#include "engine/vision/detect_infer.h"
#include "engine/vision/detect_trainer.h"
#include "engine/vision/eval_froc.h"
#include "engine/vision/luna_csv.h"
#include "engine/vision/luna_folder.h"
#include "engine/vision/phantom.h"
#include "engine/vision/vision_error.h"
#include "engine/vision/volume_io.h"

namespace r1::cli {
namespace {

namespace fs = std::filesystem;
namespace vis = r1::vision;

std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) { g_stop = true; }

struct TrainArgs {
  std::string config;
  std::vector<std::string> sets;
  bool jsonl = false;
};

struct RunArgs {
  std::string checkpoint, data, out, annotations, device = "cpu";
  std::vector<std::string> sets;
  int64_t size = 0;
};

struct PhantomArgs {
  std::string out;
  int scans = 4;
  uint64_t seed = 1;
  int size = 256;
  int subsets = 1;
};

// Human-readable lines on stderr for a terminal (the JSON Lines go to the run folder).
void print_event(const events::Event& e) {
  if (auto* s = std::get_if<events::Step>(&e.payload)) {
    std::fprintf(stderr, "step %6lld  loss %.4f  lr %.2e  grad %.3f  %.1f img/s\n",
                 static_cast<long long>(s->step), s->loss, s->lr, s->grad_norm, s->tokens_per_s);
  } else if (auto* v = std::get_if<events::Eval>(&e.payload)) {
    auto m = [&](const char* k) { return v->metrics.count(k) ? v->metrics.at(k) : 0.0; };
    std::fprintf(stderr, "eval %6lld  loss %.4f  mAP@0.5 %.3f  CPM %.3f  sens@1FP %.3f\n",
                 static_cast<long long>(v->step), v->loss, m("map50"), m("cpm"),
                 m("sensitivity_at_1fp"));
  } else if (auto* l = std::get_if<events::Log>(&e.payload)) {
    std::fprintf(stderr, "%s: %s\n", events::to_string(l->level), l->text.c_str());
  } else if (auto* c = std::get_if<events::Checkpoint>(&e.payload)) {
    std::fprintf(stderr, "checkpoint %s\n", c->path.c_str());
  } else if (auto* x = std::get_if<events::Error>(&e.payload)) {
    std::fprintf(stderr, "error: %s: %s\n", x->message.c_str(), x->cause.c_str());
  } else if (auto* f = std::get_if<events::Finish>(&e.payload)) {
    std::fprintf(stderr, "%s at step %lld after %.1f s\n", events::to_string(f->status),
                 static_cast<long long>(f->step), f->seconds);
  }
}

int cmd_train(const TrainArgs& a) {
  const vis::DetectConfig cfg = vis::load_detect_config(a.config, a.sets);
  const fs::path dir = fs::path(cfg.train.out_dir) / cfg.train.run_name;
  fs::create_directories(dir);
  auto fan = std::make_shared<events::FanoutSink>();
  fan->add(std::make_shared<events::FileSink>((dir / "events.jsonl").string(), true));
  if (a.jsonl)
    fan->add(std::make_shared<events::JsonlSink>(std::cout));
  else
    fan->add(std::make_shared<events::CallbackSink>(print_event));
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  vis::DetectTrainer trainer(cfg, fan, {[] { return g_stop.load(); }});
  return trainer.run() == events::FinishStatus::Completed ? 0 : 1;
}

int cmd_run(const RunArgs& a) {
  vis::Detector det = vis::Detector::load(a.checkpoint, a.device, a.sets);
  std::vector<vis::LunaScan> scans;
  if (fs::is_directory(a.data) && !vis::is_image_folder(a.data)) {  // a folder of scans
    scans = vis::find_luna_scans(a.data);
  } else {
    scans.push_back({fs::path(a.data).stem().string(), a.data, -1});
  }
  if (scans.empty()) throw vis::VisionError(a.data + ": no scans found (.mhd files, or folders of PNG/JPEG slices)");
  std::vector<vis::LunaDetection> rows;
  for (const auto& s : scans) {
    const auto vol = vis::read_volume(s.path);
    const auto cands = det.detect(vol, a.size);
    for (const auto& c : cands) rows.push_back({s.seriesuid, c.world, c.score});
    std::fprintf(stderr, "%s: %zu candidates\n", s.seriesuid.c_str(), cands.size());
  }
  vis::write_luna_submission(a.out, rows);
  std::fprintf(stderr, "wrote %zu rows to %s\n", rows.size(), a.out.c_str());
  if (!a.annotations.empty()) {
    std::vector<std::string> uids;
    for (const auto& s : scans) uids.push_back(s.seriesuid);
    const auto froc = vis::evaluate_froc(uids, vis::read_luna_annotations(a.annotations), {}, rows);
    std::printf("scans %d  nodules %d  detected %d  CPM %.4f\n", froc.scans, froc.nodules,
                froc.detected_nodules, froc.cpm);
    for (size_t i = 0; i < froc.fp_rates.size(); ++i)
      std::printf("  sensitivity at %g FP/scan: %.4f\n", froc.fp_rates[i], froc.sensitivities[i]);
  }
  return 0;
}

int cmd_phantom(const PhantomArgs& a) {
  vis::PhantomOptions o;
  o.size_xy_min = o.size_xy_max = a.size;
  const auto set = vis::write_phantom_set(a.out, a.scans, a.seed, o, a.subsets);
  size_t nodules = 0;
  for (const auto& s : set) nodules += s.nodules.size();
  std::fprintf(stderr, "wrote %zu scans with %zu nodules to %s\n", set.size(), nodules,
               a.out.c_str());
  return 0;
}

// Runs f, turning errors into a message and exit code 2, then ends parsing with the code.
template <class F>
[[noreturn]] void finish_with(F f) {
  int code = 2;
  try {
    code = f();
  } catch (const vis::DetectConfigError& e) {
    std::fprintf(stderr, "r1-worker detect: config error: %s\n", e.what());
  } catch (const train::CheckpointError& e) {
    std::fprintf(stderr, "r1-worker detect: checkpoint error: %s\n", e.what());
  } catch (const vis::VisionError& e) {
    std::fprintf(stderr, "r1-worker detect: data error: %s\n", e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "r1-worker detect: libtorch error: %s\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "r1-worker detect: error: %s\n", e.what());
  }
  throw CLI::RuntimeError(code);
}

}  // namespace

void add_detect_command(CLI::App& app) {
  auto* det = app.add_subcommand("detect", "Lung-nodule detector: train, run, phantom data");
  det->require_subcommand(1);

  auto ta = std::make_shared<TrainArgs>();
  auto* train = det->add_subcommand("train", "Train (or resume) a detector from a TOML config");
  train->add_option("--config", ta->config, "Detector config (TOML)")->required();
  train->add_option("--set", ta->sets, "Override a key, e.g. train.steps=100");
  train->add_flag("--jsonl", ta->jsonl, "Write the event stream to stdout too");
  train->callback([ta] { finish_with([&] { return cmd_train(*ta); }); });

  auto ra = std::make_shared<RunArgs>();
  auto* run = det->add_subcommand("run", "Detect nodules; write a LUNA16 submission CSV");
  run->add_option("--checkpoint", ra->checkpoint, "Detector checkpoint")->required();
  run->add_option("--data", ra->data, "LUNA16-style folder or one .mhd")->required();
  run->add_option("--out", ra->out, "Submission CSV to write")->required();
  run->add_option("--annotations", ra->annotations, "Also score against this annotations.csv");
  run->add_option("--device", ra->device, "cpu, cuda or cuda:N");
  run->add_option("--size", ra->size, "Input side in pixels (default: the last training size)")
      ->check(CLI::Range(0, 4096));
  run->add_option("--set", ra->sets, "Override a decode key, e.g. decode.score_threshold=0.2");
  run->callback([ra] { finish_with([&] { return cmd_run(*ra); }); });

  auto pa = std::make_shared<PhantomArgs>();
  auto* ph = det->add_subcommand("phantom", "Write a LUNA16-style folder of CT phantoms");
  ph->add_option("--out", pa->out, "Folder to write")->required();
  ph->add_option("--scans", pa->scans, "Number of scans")->check(CLI::Range(1, 100000));
  ph->add_option("--seed", pa->seed, "Seed of the set");
  ph->add_option("--size", pa->size, "In-plane voxels")->check(CLI::Range(32, 2048));
  ph->add_option("--subsets", pa->subsets, "subsetN folders")->check(CLI::Range(1, 100));
  ph->callback([pa] { finish_with([&] { return cmd_phantom(*pa); }); });
}

}  // namespace r1::cli
