#pragma once
// What a node has: OS, kernel, CPUs, memory, GPUs (nvidia-smi), CUDA/NCCL, the r1-worker there
// and its versions (`r1-worker info --versions`), and whether it answers at all. One remote
// script per node; all nodes at once.
#include "engine/cluster/ssh_session.h"

#include <cstdint>
#include <string>
#include <vector>

namespace r1::cluster {

struct GpuInfo {
  std::string name;
  std::int64_t memory_mib = 0;
  std::string driver;
};

struct NodeInfo {
  std::string node;  // label
  bool reachable = false;
  std::string error;  // why not reachable / what failed (names the node)
  SshFailureKind failure = SshFailureKind::None;
  double latency_ms = 0;  // one round trip over the open connection
  std::string os, kernel, arch;
  int cpus = 0;
  std::int64_t mem_total_kb = 0, mem_available_kb = 0;
  std::vector<GpuInfo> gpus;
  std::string cuda_driver_version;  // "CUDA Version" of nvidia-smi
  std::string nvcc_version;
  std::string nccl_version;  // from the NCCL library found by the dynamic linker
  bool worker_found = false;
  std::string worker_path;
  std::string worker_version, libtorch_version, worker_cuda;  // from info --versions
  std::string worker_error;                                   // found but `info --versions` failed

  // Ranks this node offers: its GPUs, else its CPUs.
  int slots() const { return gpus.empty() ? cpus : static_cast<int>(gpus.size()); }
};

// The probe script for a worker path (exposed for tests and for the docs).
std::string probe_script(const std::string& worker, const std::string& setup);
// Parses the script's output (the lines after the begin marker).
NodeInfo parse_probe_output(const std::string& output);

NodeInfo probe_node(const SshSession& session, const std::string& worker, const std::string& setup,
                    int timeout_s = 30);

}  // namespace r1::cluster
