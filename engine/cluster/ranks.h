#pragma once
// Rank assignment, torchrun's way: node-major, ranks = Σ per-node local world sizes (GPUs, or CPU
// slots on GPU-less nodes).
#include "engine/cluster/profile.h"

#include <string>
#include <vector>

namespace r1::cluster {

struct RankSlot {
  int rank = 0;
  int node = 0;  // index into Profile::nodes
  int local_rank = 0;
};

struct RankPlan {
  std::vector<RankSlot> ranks;
  std::vector<int> local_world_size;  // per node
  int world_size = 0;
  bool gpu = false;  // every node has GPUs (NCCL); else every node is CPU-only (Gloo)

  std::vector<RankSlot> on_node(int node) const;
};

// Throws ProfileError when GPU and CPU-only nodes are mixed (one job runs one backend).
RankPlan plan_ranks(const Profile& profile);

}  // namespace r1::cluster
