// detect_bench: inference throughput (slices/s) and peak GPU memory of the nodule detector
// (engine/vision/detect_model.h, issue 5) at one input size and precision. Its plain-PyTorch
// peer is tests/bench/detect_torch_peer.py (same network, same fields); detect_device.sh runs
// both in fp32 / bf16 / fp16 and prints the table.
//
//   detect_bench [--device cuda|cpu|cuda:N] [--size 512] [--batch 16] [--channels K]
//                [--iters 50] [--warmup 10] [--dtype fp32|bf16|fp16] [--threads N]
//                [--seed 1234] [--set model.key=value ...] [--json]
//
// A slice is one 2.5D input: K adjacent axial slices as channels (default: the config's
// input.context_slices), --size x --size pixels, uniform in [-1, 1]. The network is built from
// the detector config's defaults (--set overrides model keys), in eval mode, under
// torch::NoGradGuard, with fresh weights (the values do not change the work). bf16 / fp16 run the
// forward under autocast (vision::forward_at, the mechanism DetectTrainer trains with); weights
// stay fp32. As in training, autocast applies on CUDA only: on CPU every dtype runs fp32 (JSON
// "autocast": false). Time: --iters forward passes of one batch after --warmup, device synchronised
// before and after the timed loop; outputs are dropped each pass. Peak memory: the CUDA caching
// allocator's peak allocated bytes over the timed loop (weights and the input batch included),
// reset after warmup; -1 (JSON null) on CPU. fp32 convs follow LibTorch's default
// (cuDNN TF32 allowed), as PyTorch's does; the JSON says which.
#include "engine/compat/torch_compat.h"
#include "engine/vision/detect_config.h"
#include "engine/vision/detect_infer.h"
#include "engine/vision/detect_model.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace vis = r1::vision;

namespace {

struct Options {
  std::string device = "cuda";
  int64_t size = 512;
  int64_t batch = 16;
  int64_t channels = 0;  // 0: the config's input.context_slices
  int iters = 50;
  int warmup = 10;
  std::string dtype = "fp32";
  int threads = 0;
  uint64_t seed = 1234;
  std::vector<std::string> sets;
  bool json = false;
};

const char* kUsage =
    "usage: detect_bench [--device cuda|cpu|cuda:N] [--size 512] [--batch 16] [--channels K]\n"
    "                    [--iters 50] [--warmup 10] [--dtype fp32|bf16|fp16] [--threads N]\n"
    "                    [--seed 1234] [--set model.key=value ...] [--json]\n";

torch::Device parse_device(const std::string& s) {
  return s == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(s);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "detect_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--device") o.device = next();
      else if (a == "--size") o.size = std::stoll(next());
      else if (a == "--batch") o.batch = std::stoll(next());
      else if (a == "--channels") o.channels = std::stoll(next());
      else if (a == "--iters") o.iters = std::stoi(next());
      else if (a == "--warmup") o.warmup = std::stoi(next());
      else if (a == "--dtype") o.dtype = next();
      else if (a == "--threads") o.threads = std::stoi(next());
      else if (a == "--seed") o.seed = std::stoull(next());
      else if (a == "--set") o.sets.push_back(next());
      else if (a == "--json") o.json = true;
      else {
        std::fputs(kUsage, stderr);
        return 2;
      }
    } catch (const std::logic_error&) {  // std::stoll and friends on a non-number
      std::fprintf(stderr, "detect_bench: %s: not a number: '%s'\n", a.c_str(), argv[i]);
      return 2;
    }
  }
  if (o.size < 16 || o.batch < 1 || o.iters < 1 || o.warmup < 0 || o.channels < 0 ||
      (o.dtype != "fp32" && o.dtype != "bf16" && o.dtype != "fp16")) {
    std::fputs("detect_bench: need --size >= 16, --batch >= 1, --iters >= 1, --warmup >= 0, "
               "--channels >= 0 and --dtype fp32, bf16 or fp16\n", stderr);
    return 2;
  }

  try {
    const vis::DetectConfig cfg = vis::detect_config_from_string("", "detect_bench --set", o.sets);
    const int64_t k = o.channels > 0 ? o.channels : cfg.input.context_slices;
    const torch::Device dev = parse_device(o.device);
    if (dev.is_cuda() && !r1::compat::cuda_available())
      throw std::runtime_error("--device " + o.device + ": LibTorch sees no CUDA device" +
                               (r1::compat::kTorchHasCuda ? "" : " (built without CUDA)"));
    if (o.threads > 0) torch::set_num_threads(o.threads);
    r1::compat::set_current_device(dev);
    torch::manual_seed(o.seed);
    const bool autocast = dev.is_cuda() && o.dtype != "fp32";
    if (!dev.is_cuda() && o.dtype != "fp32")
      std::fprintf(stderr, "detect_bench: --dtype %s: autocast applies on CUDA only (as in "
                   "training); running fp32 on CPU\n", o.dtype.c_str());

    vis::DetectorNet net(cfg.model, k);
    const int64_t params = vis::parameter_count(*net);
    net->to(dev);
    net->eval();
    const auto x =
        torch::rand({o.batch, k, o.size, o.size}, torch::TensorOptions().device(dev)) * 2 - 1;

    torch::NoGradGuard no_grad;
    const auto t_warm = std::chrono::steady_clock::now();
    for (int i = 0; i < o.warmup; ++i) vis::forward_at(net, x, o.dtype);
    r1::compat::synchronize(dev);
    const double warmup_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_warm).count();
    r1::compat::cuda_reset_peak(dev);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.iters; ++i) vis::forward_at(net, x, o.dtype);
    r1::compat::synchronize(dev);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t peak = r1::compat::cuda_peak_bytes(dev);

    const double sps = static_cast<double>(o.iters * o.batch) / sec;
    const double peak_mib = peak >= 0 ? static_cast<double>(peak) / (1 << 20) : -1;
    const bool tf32 = at::globalContext().allowTF32CuDNN();
    if (o.json) {
      nlohmann::json j = {{"impl", "ours"},
                          {"device", dev.str()},
                          {"device_name", r1::compat::device_name(dev)},
                          {"torch", r1::compat::torch_version()},
                          {"dtype", o.dtype},
                          {"autocast", autocast},
                          {"batch", o.batch},
                          {"size", o.size},
                          {"channels", k},
                          {"iters", o.iters},
                          {"warmup", o.warmup},
                          {"params", params},
                          {"slices_per_s", sps},
                          {"ms_per_batch", 1e3 * sec / o.iters},
                          {"peak_mib", peak >= 0 ? nlohmann::json(peak_mib) : nlohmann::json()},
                          {"tf32_conv", tf32},
                          {"warmup_s", warmup_s}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("detect_bench  device %s (%s)  dtype %s%s  batch %lld x %lld x %lld^2  "
                  "iters %d (+%d warmup, %.1f s)\n",
                  dev.str().c_str(), r1::compat::device_name(dev).c_str(), o.dtype.c_str(),
                  autocast ? " (autocast)" : o.dtype == "fp32" ? "" : " (fp32: no autocast on CPU)",
                  static_cast<long long>(o.batch), static_cast<long long>(k),
                  static_cast<long long>(o.size), o.iters, o.warmup, warmup_s);
      std::printf("params      %lld\n", static_cast<long long>(params));
      std::printf("slices/s    %.1f  (%.2f ms per batch)\n", sps, 1e3 * sec / o.iters);
      if (peak >= 0) std::printf("peak GPU    %.1f MiB\n", peak_mib);
      if (dev.is_cuda()) std::printf("cuDNN TF32  %s\n", tf32 ? "allowed" : "off");
    }
    return 0;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "detect_bench: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "detect_bench: %s\n", e.what());
    return 1;
  }
}
