#include "engine/cli/kernel_profile.h"

#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <vector>

namespace r1::cli {
namespace {

namespace tpi = torch::profiler::impl;
namespace tap = torch::autograd::profiler;

// KinetoEvent's duration: durationNs() in LibTorch 2.x, durationUs() in 1.13.
template <typename E>
auto duration_us(const E& e, int) -> decltype(e.durationNs(), double()) {
  return static_cast<double>(e.durationNs()) / 1e3;
}
template <typename E>
double duration_us(const E& e, long) {
  return static_cast<double>(e.durationUs());
}

std::string shorten(std::string name, size_t n) {
  // Templated kernel names run to hundreds of characters; the head names the kernel.
  for (auto& c : name)
    if (c == '|' || c == '\n') c = ' ';
  if (name.size() > n) name = name.substr(0, n - 1) + "…";
  return name;
}

}  // namespace

KernelProfile profile_kernels(const std::function<void()>& step, int64_t steps,
                              const std::string& trace_path, int top) {
  const tpi::ProfilerConfig cfg(tpi::ProfilerState::KINETO);
  std::set<tpi::ActivityType> acts{tpi::ActivityType::CPU};
  if (torch::cuda::is_available()) acts.insert(tpi::ActivityType::CUDA);
  tap::prepareProfiler(cfg, acts);
  tap::enableProfiler(cfg, acts);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  const double wall =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto result = tap::disableProfiler();
  if (!result) throw std::runtime_error("the profiler returned no result");
  if (!trace_path.empty()) result->save(trace_path);

  struct Row {
    int64_t n = 0;
    double us = 0;
  };
  std::map<std::string, Row> by_name;
  double total_us = 0;
  size_t cpu_events = 0;
  for (const auto& e : result->events()) {
    if (e.deviceType() != c10::DeviceType::CUDA) {
      ++cpu_events;
      continue;
    }
    auto& r = by_name[e.name()];
    r.n += 1;
    const double us = duration_us(e, 0);
    r.us += us;
    total_us += us;
  }
  if (by_name.empty())
    throw std::runtime_error(
        "no GPU activity recorded (" + std::to_string(cpu_events) +
        " CPU events): this LibTorch was built without Kineto/CUPTI, or no kernel ran on a GPU");
  std::vector<std::pair<std::string, Row>> rows(by_name.begin(), by_name.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.us > b.second.us; });
  const double s = static_cast<double>(steps);
  KernelProfile out;
  out.gpu_ms_per_step = total_us / 1e3 / s;
  out.wall_ms_per_step = wall / s;
  std::string t = "| kernel | launches / step | ms / step | % of GPU time |\n|---|---:|---:|---:|\n";
  char buf[512];
  double shown = 0;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < top; ++i) {
    const auto& [name, r] = rows[i];
    shown += r.us;
    std::snprintf(buf, sizeof buf, "| %s | %.1f | %.3f | %.1f%% |\n", shorten(name, 90).c_str(),
                  static_cast<double>(r.n) / s, r.us / 1e3 / s, 100 * r.us / total_us);
    t += buf;
  }
  std::snprintf(buf, sizeof buf, "| (%zu other kernels) | | %.3f | %.1f%% |\n",
                rows.size() > static_cast<size_t>(top) ? rows.size() - top : 0,
                (total_us - shown) / 1e3 / s, 100 * (total_us - shown) / total_us);
  t += buf;
  out.table = t;
  return out;
}

}  // namespace r1::cli
