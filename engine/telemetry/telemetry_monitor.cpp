#include "engine/telemetry/telemetry_monitor.h"

#include "engine/telemetry/gpu_sampler.h"
#include "engine/telemetry/host_sampler.h"

#include <memory>
#include <utility>
#include <vector>

namespace r1::telemetry {

TelemetryMonitor::TelemetryMonitor(std::optional<int> gpu_device,
                                   std::function<void(events::Payload)> emit,
                                   std::chrono::milliseconds period) {
  std::shared_ptr<GpuSampler> gpu;
  if (gpu_device) {
    gpu = std::make_shared<GpuSampler>();
    if (!gpu->available()) {
      gpu_off_reason_ = gpu->reason();
      gpu.reset();
    }
  }
  // Constructed here: its first /proc/stat reading is the base of the first cpu_util.
  auto host = std::make_shared<HostSampler>();
  thread_ = std::thread([this, gpu, host, device = gpu_device.value_or(0), period,
                         emit = std::move(emit)] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      if (gpu) {
        for (auto& g : gpu->sample({device})) emit(g);
      }
      emit(host->sample());
      lock.lock();
    }
  });
}

TelemetryMonitor::~TelemetryMonitor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace r1::telemetry
