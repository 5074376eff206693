#include "engine/cluster/ranks.h"

#include "engine/cluster/cluster_error.h"

namespace r1::cluster {

std::vector<RankSlot> RankPlan::on_node(int node) const {
  std::vector<RankSlot> out;
  for (const auto& r : ranks)
    if (r.node == node) out.push_back(r);
  return out;
}

RankPlan plan_ranks(const Profile& profile) {
  if (profile.nodes.empty()) throw ProfileError("profile '" + profile.name + "' has no nodes");
  RankPlan plan;
  plan.gpu = profile.nodes.front().gpus > 0;
  for (std::size_t i = 0; i < profile.nodes.size(); ++i) {
    const Node& n = profile.nodes[i];
    if ((n.gpus > 0) != plan.gpu)
      throw ProfileError("profile '" + profile.name + "': node '" + n.label() + "' has " +
                         std::to_string(n.gpus) + " GPUs but node '" +
                         profile.nodes.front().label() + "' has " +
                         std::to_string(profile.nodes.front().gpus) +
                         "; one job runs either on GPUs (NCCL) or on CPUs (Gloo)");
    const int local = n.ranks();
    plan.local_world_size.push_back(local);
    for (int l = 0; l < local; ++l)
      plan.ranks.push_back({plan.world_size + l, static_cast<int>(i), l});
    plan.world_size += local;
  }
  return plan;
}

}  // namespace r1::cluster
