#include "engine/dist/process_group.h"

#include "engine/compat/torch_compat.h"

#ifdef R1_HAVE_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef R1_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

namespace r1::dist {
namespace {

std::string where(const DistEnv& env) {
  return "rank " + std::to_string(env.rank) + "/" + std::to_string(env.world_size) +
         ", master " + env.master_addr + ":" + std::to_string(env.master_port);
}

template <typename WorkPtr>
class Pending final : public PendingOp {
 public:
  Pending(WorkPtr work, std::vector<at::Tensor> keep, std::chrono::milliseconds timeout,
          std::string what)
      : work_(std::move(work)), keep_(std::move(keep)), timeout_(timeout), what_(std::move(what)) {}
  void wait() override {
    try {
      work_->wait(timeout_);
    } catch (const std::exception& e) {
      throw DistError(what_ + " failed (a peer died, hung or lost its link?): " +
                      std::string(e.what()).substr(0, 600));
    }
  }

 private:
  WorkPtr work_;
  std::vector<at::Tensor> keep_;
  std::chrono::milliseconds timeout_;
  std::string what_;
};

// Everything but the backend type is shared.
template <typename Backend>
class Group final : public ProcessGroup {
 public:
  Group(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Backend> pg, const char* name,
        int rank, int size, std::chrono::milliseconds timeout)
      : store_(std::move(store)), pg_(std::move(pg)), name_(name), rank_(rank), size_(size),
        timeout_(timeout) {}

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return name_; }

  std::unique_ptr<PendingOp> allreduce_sum(at::Tensor& t) override {
    std::vector<at::Tensor> v{t};
    auto work = pg_->allreduce(v);
    return std::make_unique<Pending<decltype(work)>>(std::move(work), std::move(v), timeout_,
                                                     std::string(name_) + " all-reduce");
  }
  void broadcast(at::Tensor& t, int root) override {
    std::vector<at::Tensor> v{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    auto work = pg_->broadcast(v, o);
    Pending<decltype(work)>(std::move(work), std::move(v), timeout_,
                            std::string(name_) + " broadcast").wait();
  }
  void barrier() override {
    auto work = pg_->barrier();
    Pending<decltype(work)>(std::move(work), {}, timeout_, std::string(name_) + " barrier").wait();
  }
  void store_set(const std::string& key, const std::string& value) override {
    store_->set("r1/" + key, std::vector<uint8_t>(value.begin(), value.end()));
  }
  std::string store_get(const std::string& key, std::chrono::milliseconds timeout) override {
    try {
      store_->wait({"r1/" + key}, timeout);
      auto v = store_->get("r1/" + key);
      return std::string(v.begin(), v.end());
    } catch (const std::exception& e) {
      throw DistError("waiting for '" + key + "' from the other ranks: " + e.what());
    }
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Backend> pg_;
  const char* name_;
  int rank_, size_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
#ifdef R1_HAVE_GLOO
  out.push_back("gloo");
#endif
#ifdef R1_HAVE_NCCL
  out.push_back("nccl");
#endif
  return out;
}

std::unique_ptr<ProcessGroup> create_process_group(const DistEnv& env, const torch::Device& device,
                                                   const ProcessGroupOptions& options) {
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<std::size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = options.connect_timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    tcp->setTimeout(options.timeout);
    store = tcp;
  } catch (const std::exception& e) {
    throw DistError("rendezvous (" + where(env) + ") failed: " + e.what());
  }
  auto pg_store = c10::make_intrusive<c10d::PrefixStore>("pg", store);

  if (device.is_cuda()) {
#ifdef R1_HAVE_NCCL
    // A dead peer must end the job, not hang it: abort communicators on error or timeout.
    setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", /*overwrite=*/0);
#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 2)
    setenv("NCCL_ASYNC_ERROR_HANDLING", "1", 0);  // the name LibTorch < 2.2 reads
#endif
    try {
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = options.timeout;
      auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(pg_store, env.rank, env.world_size,
                                                            opts);
      return std::make_unique<Group<c10d::ProcessGroupNCCL>>(store, pg, "nccl", env.rank,
                                                             env.world_size, options.timeout);
    } catch (const std::exception& e) {
      throw DistError("NCCL process group (" + where(env) + "): " + e.what());
    }
#else
    throw DistError("train.device is CUDA but this build's LibTorch has no c10d NCCL backend");
#endif
  }
#ifdef R1_HAVE_GLOO
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(options.timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      std::string list = ifname;  // comma-separated, as torch.distributed reads it
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string one = list.substr(start, comma == std::string::npos ? std::string::npos
                                                                         : comma - start);
        if (!one.empty())
          opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(one));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, env.rank, env.world_size,
                                                          opts);
    return std::make_unique<Group<c10d::ProcessGroupGloo>>(store, pg, "gloo", env.rank,
                                                           env.world_size, options.timeout);
  } catch (const std::exception& e) {
    throw DistError("Gloo process group (" + where(env) + "): " + e.what());
  }
#else
  throw DistError("this build's LibTorch has no c10d Gloo backend (install libgloo-dev and "
                  "rebuild)");
#endif
}

}  // namespace r1::dist

namespace r1::dist {

void broadcast_tensors(ProcessGroup& pg, const std::vector<at::Tensor>& tensors, int root) {
  torch::NoGradGuard ng;
  for (const auto& t : tensors) {
    if (t.is_contiguous()) {
      at::Tensor alias = t;
      pg.broadcast(alias, root);
    } else {
      auto tmp = t.contiguous();
      pg.broadcast(tmp, root);
      at::Tensor(t).copy_(tmp);
    }
  }
}

}  // namespace r1::dist
