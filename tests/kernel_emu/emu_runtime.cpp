// The scheduler of emu.h, and the CUDA runtime calls that kernels/ and tests/test_kernels.cpp
// make, answered on host memory by a pretend device ("r1emu CPU emulation", 4 SMs).
#include "tests/kernel_emu/emu.h"

#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define R1EMU_ASAN 1
#endif

namespace r1emu {

uint3 thread_idx, block_idx;
dim3 block_dim, grid_dim;

namespace {

enum class State { Ready, BlockBarrier, WarpBarrier, Done };

constexpr size_t kStackBytes = 128 * 1024;
constexpr size_t kSlotBytes = 16;  // largest value a shuffle moves

struct Fiber {
  ucontext_t ctx;
  State state = State::Ready;
  uint3 tid;
  int linear = 0;
  unsigned mask = 0;
  char* stack = nullptr;
};

struct Emulator {
  std::vector<Fiber> fibers;
  ucontext_t sched;
  int current = -1;
  const std::function<void()>* fn = nullptr;
  std::vector<unsigned char> slots;
  std::vector<unsigned char> smem;
  std::mt19937 order{12345};
#ifdef R1EMU_ASAN
  const void* sched_bottom = nullptr;
  size_t sched_size = 0;
#endif
  ~Emulator() {
    for (Fiber& f : fibers) std::free(f.stack);
  }
};

Emulator& emu() {
  static Emulator e;
  return e;
}

cudaError_t last_error = cudaSuccess;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "r1emu: block (%u, %u, %u): %s\n", block_idx.x, block_idx.y, block_idx.z,
               what.c_str());
  std::abort();
}

// Fiber -> scheduler.
void yield(State s) {
  Emulator& e = emu();
  Fiber& f = e.fibers[e.current];
  f.state = s;
#ifdef R1EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, e.sched_bottom, e.sched_size);
#endif
  swapcontext(&f.ctx, &e.sched);
#ifdef R1EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

void trampoline() {
  Emulator& e = emu();
#ifdef R1EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &e.sched_bottom, &e.sched_size);
#endif
  (*e.fn)();
  e.fibers[e.current].state = State::Done;
#ifdef R1EMU_ASAN
  __sanitizer_start_switch_fiber(nullptr, e.sched_bottom, e.sched_size);  // this fiber ends
#endif
}  // returns to uc_link: the scheduler

// Scheduler -> fiber t, until it blocks or ends.
void run(int t) {
  Emulator& e = emu();
  Fiber& f = e.fibers[t];
  e.current = t;
  thread_idx = f.tid;
#ifdef R1EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack, kStackBytes);
#endif
  swapcontext(&e.sched, &f.ctx);
#ifdef R1EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

void run_block() {
  Emulator& e = emu();
  const int n = static_cast<int>(block_dim.x * block_dim.y * block_dim.z);
  if (static_cast<int>(e.fibers.size()) < n) e.fibers.resize(n);
  e.slots.assign(((n + 31) / 32) * 32 * kSlotBytes, 0xFF);
  for (int t = 0; t < n; ++t) {
    Fiber& f = e.fibers[t];
    if (!f.stack) f.stack = static_cast<char*>(std::malloc(kStackBytes));
    f.state = State::Ready;
    f.linear = t;
    f.tid = uint3{t % block_dim.x, (t / block_dim.x) % block_dim.y,
                  t / (block_dim.x * block_dim.y)};
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = &e.sched;
    makecontext(&f.ctx, trampoline, 0);
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (;;) {
    std::shuffle(order.begin(), order.end(), e.order);  // no order between barriers
    for (int t : order)
      if (e.fibers[t].state == State::Ready) run(t);
    int done = 0;
    for (int t = 0; t < n; ++t) done += e.fibers[t].state == State::Done;
    if (done == n) return;
    bool released = false;
    for (int w0 = 0; w0 < n; w0 += 32) {
      const int w1 = std::min(n, w0 + 32);
      int at_warp = 0, at_block = 0;
      unsigned mask = 0;
      for (int t = w0; t < w1; ++t) {
        at_warp += e.fibers[t].state == State::WarpBarrier;
        at_block += e.fibers[t].state == State::BlockBarrier;
        if (e.fibers[t].state == State::WarpBarrier) mask |= e.fibers[t].mask;
      }
      if (!at_warp) continue;
      if (at_block) fail("warp " + std::to_string(w0 / 32) +
                         ": some lanes at a shuffle, others at __syncthreads");
      for (int t = w0; t < w0 + 32; ++t) {
        const bool in_mask = (mask >> (t - w0)) & 1u;
        if (in_mask && (t >= w1 || e.fibers[t].state == State::Done))
          fail("warp " + std::to_string(w0 / 32) + ": shuffle mask names lane " +
               std::to_string(t - w0) + ", which has exited or does not exist");
      }
      for (int t = w0; t < w1; ++t)
        if (e.fibers[t].state == State::WarpBarrier) e.fibers[t].state = State::Ready;
      released = true;
    }
    if (released) continue;
    // Every live thread is at __syncthreads (exited threads count as arrived, as on the GPU).
    for (int t = 0; t < n; ++t)
      if (e.fibers[t].state == State::BlockBarrier) e.fibers[t].state = State::Ready;
  }
}

}  // namespace

int lane() { return emu().fibers[emu().current].linear % 32; }

void* dynamic_smem() { return emu().smem.data(); }

void syncthreads() { yield(State::BlockBarrier); }

void syncwarp(unsigned mask) {
  Fiber& f = emu().fibers[emu().current];
  const int ln = f.linear % 32;
  if (!((mask >> ln) & 1u)) fail("lane " + std::to_string(ln) + " at __syncwarp outside its mask");
  f.mask = mask;
  yield(State::WarpBarrier);
}

void warp_exchange(unsigned mask, const void* mine, void* out, int src, size_t bytes) {
  Emulator& e = emu();
  Fiber& f = e.fibers[e.current];
  const int ln = f.linear % 32, base = f.linear - ln;
  if (bytes > kSlotBytes) fail("shuffle of more than 16 bytes");
  if (!((mask >> ln) & 1u)) fail("lane " + std::to_string(ln) + " shuffles outside its mask");
  if (src < 0 || src >= 32) fail("shuffle source lane " + std::to_string(src));
  std::memcpy(&e.slots[(base + ln) * kSlotBytes], mine, bytes);
  f.mask = mask;
  yield(State::WarpBarrier);  // every lane has written
  std::memcpy(out, &e.slots[(base + src) * kSlotBytes], bytes);
  yield(State::WarpBarrier);  // every lane has read
}

void launch(const std::function<void()>& fn, dim3 grid, dim3 block, size_t dynamic_smem) {
  const unsigned long threads = 1ul * block.x * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 ||
      grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
    last_error = cudaErrorInvalidConfiguration;
    return;
  }
  if (dynamic_smem > 48 * 1024) {
    last_error = cudaErrorInvalidValue;
    return;
  }
  Emulator& e = emu();
  e.fn = &fn;
  e.smem.assign(dynamic_smem, 0xFF);  // NaN for whoever reads before writing
  grid_dim = grid;
  block_dim = block;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        block_idx = uint3{x, y, z};
        run_block();
      }
  e.fn = nullptr;
}

}  // namespace r1emu

// --- the runtime API, on host memory ------------------------------------------------------------

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "r1emu CPU emulation");
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 4;
  prop->l2CacheSize = 1 << 20;
  prop->maxThreadsPerBlock = 1024;
  prop->warpSize = 32;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = 4; return cudaSuccess;
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* num_blocks, const void*,
                                                                   int block_size, size_t,
                                                                   unsigned int) {
  *num_blocks = std::max(1, 2048 / std::max(block_size, 1) / 2);
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* num_blocks, const void* fn,
                                                          int block_size, size_t smem) {
  return cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(num_blocks, fn, block_size, smem,
                                                                0);
}

cudaError_t cudaMalloc(void** ptr, size_t size) {
  *ptr = std::malloc(std::max<size_t>(size, 1));  // 16-byte aligned, as ASan checks exactly
  return *ptr ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  std::memset(ptr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t) {
  return cudaMemset(ptr, value, count);
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind) {
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaGetLastError() {
  const cudaError_t e = r1emu::last_error;
  r1emu::last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return r1emu::last_error; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    default: return "cudaError(other)";
  }
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    default: return "(r1emu: an error the emulation does not name)";
  }
}

// Events: host timestamps (for running tests/bench/kernel_bench on the emulation).
#include <chrono>

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(new std::chrono::steady_clock::time_point());
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<std::chrono::steady_clock::time_point*>(event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  *reinterpret_cast<std::chrono::steady_clock::time_point*>(event) =
      std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  using T = std::chrono::steady_clock::time_point;
  *ms = std::chrono::duration<float, std::milli>(*reinterpret_cast<T*>(end) -
                                                 *reinterpret_cast<T*>(start))
            .count();
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = 0;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
