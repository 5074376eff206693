#pragma once
// Every LibTorch version difference lives here (Debian 12: 1.13.1 CPU; accelerator: 2.x + CUDA).
#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/autocast_mode.h>

#include <optional>
#include <string>

namespace r1::compat {

inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;
#ifdef R1_WITH_CUDA
inline constexpr bool kTorchHasCuda = true;
#else
inline constexpr bool kTorchHasCuda = false;
#endif

inline std::string torch_version() { return TORCH_VERSION; }

// Fused attention where LibTorch has a public SDPA (2.x); nullopt means "use the fallback".
// q: [B,H,T,Dqk], k: [B,H,S,Dqk], v: [B,H,S,Dv]; causal.
inline std::optional<at::Tensor> fused_causal_attention(const at::Tensor& q, const at::Tensor& k,
                                                        const at::Tensor& v, double scale) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0,
                                          /*is_causal=*/true, scale);
#else
  (void)q; (void)k; (void)v; (void)scale;
  return std::nullopt;
#endif
}

// Autocast (mixed precision) for the current thread.
inline void set_autocast(const torch::Device& device, bool enabled, at::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
  at::autocast::set_autocast_enabled(device.type(), enabled);
  if (enabled) at::autocast::set_autocast_dtype(device.type(), dtype);
#else
  if (device.is_cuda()) {
    at::autocast::set_enabled(enabled);
    if (enabled) at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    if (enabled) at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
  if (!enabled) at::autocast::clear_cache();
}

// The dtype autocast computes in on this thread for `device`'s type, or nullopt when it is off.
inline std::optional<at::ScalarType> autocast_dtype(const torch::Device& device) {
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
  if (!at::autocast::is_autocast_enabled(device.type())) return std::nullopt;
  return at::autocast::get_autocast_dtype(device.type());
#else
  if (device.is_cuda()) {
    if (!at::autocast::is_enabled()) return std::nullopt;
    return at::autocast::get_autocast_gpu_dtype();
  }
  if (!at::autocast::is_cpu_enabled()) return std::nullopt;
  return at::autocast::get_autocast_cpu_dtype();
#endif
}

// Generator state as a byte tensor.
inline at::Tensor generator_state(const at::Generator& gen) { return gen.get_state(); }
inline void set_generator_state(at::Generator& gen, const at::Tensor& state) { gen.set_state(state); }

inline bool cuda_available() { return torch::cuda::is_available(); }

}  // namespace r1::compat

#ifdef R1_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace r1::compat {

inline std::string device_name(const torch::Device& d) {
#ifdef R1_WITH_CUDA
  if (d.is_cuda()) return at::cuda::getDeviceProperties(d.has_index() ? d.index() : 0)->name;
#endif
  return d.is_cuda() ? "cuda" : "cpu";
}

// Peak bytes allocated on a CUDA device since the last reset; -1 on CPU.
inline int64_t cuda_peak_bytes(const torch::Device& d) {
#ifdef R1_WITH_CUDA
  if (d.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(d.has_index() ? d.index() : 0);
    return stats.allocated_bytes[0].peak;
  }
#endif
  (void)d;
  return -1;
}

inline void cuda_reset_peak(const torch::Device& d) {
#ifdef R1_WITH_CUDA
  if (d.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(d.has_index() ? d.index() : 0);
#endif
  (void)d;
}

// Make `d` this thread's current CUDA device (NCCL and kernel launches follow it).
inline void set_current_device(const torch::Device& d) {
#ifdef R1_WITH_CUDA
  if (d.is_cuda() && d.has_index()) c10::cuda::set_device(d.index());
#endif
  (void)d;
}

inline void synchronize(const torch::Device& d) {
#ifdef R1_WITH_CUDA
  if (d.is_cuda()) torch::cuda::synchronize(d.has_index() ? d.index() : 0);
#endif
  (void)d;
}

}  // namespace r1::compat
