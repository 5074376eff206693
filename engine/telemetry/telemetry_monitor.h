#pragma once
// The 1 Hz telemetry thread of a training process: a gpu event for its CUDA device (NVML, when
// the machine has it) and a host event (CPU and RAM from /proc) every period while it lives.
#include "engine/events/event.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace r1::telemetry {

class TelemetryMonitor {
 public:
  // gpu_device: the CUDA device index to read through NVML; empty for a CPU run. emit is called
  // on the monitor's thread; the first samples come one period after construction.
  TelemetryMonitor(std::optional<int> gpu_device, std::function<void(events::Payload)> emit,
                   std::chrono::milliseconds period = std::chrono::seconds(1));
  ~TelemetryMonitor();  // stops and joins: no event is emitted after it returns
  TelemetryMonitor(const TelemetryMonitor&) = delete;
  TelemetryMonitor& operator=(const TelemetryMonitor&) = delete;

  // Why a GPU run gets no gpu events (NVML missing or failing); empty otherwise.
  const std::string& gpu_off_reason() const { return gpu_off_reason_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string gpu_off_reason_;
  std::thread thread_;
};

}  // namespace r1::telemetry
