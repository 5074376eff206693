#pragma once
// GPU utilization, memory, temperature, power and SM clock through NVML, loaded with dlopen at
// run time (no link-time dependency: the same binary runs on machines without an NVIDIA driver).
#include "engine/events/event.h"

#include <string>
#include <vector>

namespace r1::telemetry {

class GpuSampler {
 public:
  GpuSampler();
  ~GpuSampler();
  GpuSampler(const GpuSampler&) = delete;
  GpuSampler& operator=(const GpuSampler&) = delete;

  bool available() const { return lib_ != nullptr; }
  const std::string& reason() const { return reason_; }  // why not available
  // One reading per NVML device index; fields NVML cannot read stay empty.
  std::vector<events::Gpu> sample(const std::vector<int>& devices) const;

 private:
  void* lib_ = nullptr;
  std::string reason_;
  struct Api;
  Api* api_ = nullptr;
};

}  // namespace r1::telemetry
