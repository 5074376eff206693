#pragma once
// `r1-worker bench --profile FILE`: a few training steps under LibTorch's Kineto profiler (CPU
// operators and CUDA kernels through CUPTI), a Chrome trace written to FILE (open it in
// chrome://tracing or Perfetto), and a table of the GPU kernels by total time.
#include <cstdint>
#include <functional>
#include <string>

namespace r1::cli {

struct KernelProfile {
  std::string table;         // Markdown: kernel, launches per step, ms per step, % of GPU time
  double gpu_ms_per_step = 0;  // sum of kernel, copy and set times (overlaps counted twice)
  double wall_ms_per_step = 0;
};

// Runs `step` `steps` times under the profiler. Throws std::runtime_error when this LibTorch
// cannot profile (the message says why); the steps still ran.
KernelProfile profile_kernels(const std::function<void()>& step, int64_t steps,
                              const std::string& trace_path, int top);

}  // namespace r1::cli
