#include "engine/telemetry/gpu_sampler.h"

#include <dlfcn.h>

namespace r1::telemetry {
namespace {

// The few NVML types used here, as the NVML API defines them (nvml.h is not on every build
// machine; the ABI of these calls has been stable since NVML 5).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
constexpr nvmlReturn_t kSuccess = 0;
constexpr int kTemperatureGpu = 0;
constexpr int kClockSm = 1;  // NVML_CLOCK_SM

}  // namespace

struct GpuSampler::Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*shutdown)();
  nvmlReturn_t (*handle)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*util)(nvmlDevice_t, nvmlUtilization_t*);
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned int*);
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*clock)(nvmlDevice_t, int, unsigned int*);
};

GpuSampler::GpuSampler() {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    reason_ = "NVML (libnvidia-ml.so.1) not found: no NVIDIA driver on this machine";
    return;
  }
  auto* api = new Api{};
  auto sym = [&](const char* name) { return dlsym(lib, name); };
  api->init = reinterpret_cast<decltype(api->init)>(sym("nvmlInit_v2"));
  api->shutdown = reinterpret_cast<decltype(api->shutdown)>(sym("nvmlShutdown"));
  api->handle = reinterpret_cast<decltype(api->handle)>(sym("nvmlDeviceGetHandleByIndex_v2"));
  api->util = reinterpret_cast<decltype(api->util)>(sym("nvmlDeviceGetUtilizationRates"));
  api->memory = reinterpret_cast<decltype(api->memory)>(sym("nvmlDeviceGetMemoryInfo"));
  api->temperature = reinterpret_cast<decltype(api->temperature)>(sym("nvmlDeviceGetTemperature"));
  api->power = reinterpret_cast<decltype(api->power)>(sym("nvmlDeviceGetPowerUsage"));
  api->clock = reinterpret_cast<decltype(api->clock)>(sym("nvmlDeviceGetClockInfo"));
  if (!api->init || !api->shutdown || !api->handle) {
    reason_ = "NVML lacks nvmlInit_v2 / nvmlDeviceGetHandleByIndex_v2";
  } else if (api->init() != kSuccess) {
    reason_ = "nvmlInit_v2 failed";
  } else {
    lib_ = lib;
    api_ = api;
    return;
  }
  delete api;
  dlclose(lib);
}

GpuSampler::~GpuSampler() {
  if (!lib_) return;
  api_->shutdown();
  delete api_;
  dlclose(lib_);
}

std::vector<events::Gpu> GpuSampler::sample(const std::vector<int>& devices) const {
  std::vector<events::Gpu> out;
  if (!lib_) return out;
  for (int d : devices) {
    nvmlDevice_t h = nullptr;
    if (api_->handle(static_cast<unsigned int>(d), &h) != kSuccess) continue;
    events::Gpu g;
    g.device = d;
    nvmlUtilization_t u{};
    if (api_->util && api_->util(h, &u) == kSuccess) g.util = u.gpu;
    nvmlMemory_t m{};
    if (api_->memory && api_->memory(h, &m) == kSuccess) {
      g.mem_used_mb = static_cast<double>(m.used) / (1 << 20);
      g.mem_total_mb = static_cast<double>(m.total) / (1 << 20);
    }
    unsigned int t = 0, p = 0, mhz = 0;
    if (api_->temperature && api_->temperature(h, kTemperatureGpu, &t) == kSuccess) g.temp_c = t;
    if (api_->power && api_->power(h, &p) == kSuccess) g.power_w = p / 1000.0;
    if (api_->clock && api_->clock(h, kClockSm, &mhz) == kSuccess) g.sm_clock_mhz = mhz;
    out.push_back(g);
  }
  return out;
}

}  // namespace r1::telemetry
