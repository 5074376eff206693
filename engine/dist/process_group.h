#pragma once
// A c10d process group for data parallelism: TCPStore rendezvous, then ProcessGroupNCCL on CUDA
// or ProcessGroupGloo on CPU. The concrete backend type is held here (the ProcessGroup/Backend
// split differs between LibTorch 1.13 and 2.x); callers see plain tensor collectives.
#include "engine/dist/dist_env.h"

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace r1::dist {

// An in-flight collective.
class PendingOp {
 public:
  virtual ~PendingOp() = default;
  virtual void wait() = 0;  // throws DistError on failure or timeout
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;  // "nccl" | "gloo"

  // In-place sum over all ranks of one contiguous tensor on this group's device.
  virtual std::unique_ptr<PendingOp> allreduce_sum(at::Tensor& t) = 0;
  virtual void broadcast(at::Tensor& t, int root) = 0;
  virtual void barrier() = 0;

  // The rendezvous store (key/value, for one-off handshakes such as "data prepared").
  virtual void store_set(const std::string& key, const std::string& value) = 0;
  virtual std::string store_get(const std::string& key, std::chrono::milliseconds timeout) = 0;

  void allreduce_sum_sync(at::Tensor& t) { allreduce_sum(t)->wait(); }
};

struct ProcessGroupOptions {
  // A collective that does not finish in time ends the job (a dead or hung peer).
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // Rendezvous: how long rank 0 waits for the others to connect.
  std::chrono::milliseconds connect_timeout{std::chrono::minutes(5)};
};

// Which backends this build has ("gloo", "nccl").
std::vector<std::string> available_backends();

// Rendezvous and create the group for `device` (CUDA → NCCL, CPU → Gloo). Throws DistError
// naming the backend and the master address when it cannot.
std::unique_ptr<ProcessGroup> create_process_group(const DistEnv& env, const torch::Device& device,
                                                   const ProcessGroupOptions& options = {});

}  // namespace r1::dist

namespace r1::dist {

// Every rank ends up with root's values (parameters and buffers at start, so that all replicas
// begin identical whatever their initialisation did).
void broadcast_tensors(ProcessGroup& pg, const std::vector<at::Tensor>& tensors, int root = 0);

}  // namespace r1::dist
