#include "engine/cluster/job_rules.h"

#include "engine/cluster/process.h"

#include <cstdio>

namespace r1::cluster {

std::string describe_exit(int code) {
  if (code < 0) return "exit status unknown";
  if (code > 128 && code < 160)
    return "killed by signal " + std::to_string(code - 128) + " (" + signal_name(code - 128) + ")";
  return "exit code " + std::to_string(code);
}

Verdict judge(JobRecord& record, const std::vector<NodePoll>& polls, double node_lost_after_s) {
  Verdict v;
  v.state = record.state;
  if (is_final(record.state)) return v;

  bool stop_requested = false;
  for (std::size_t n = 0; n < polls.size() && n < record.nodes.size(); ++n) {
    const NodePoll& p = polls[n];
    if (!p.reachable) continue;
    stop_requested = stop_requested || p.status.stop_requested;
    for (int r : record.ranks_on(static_cast<int>(n))) {
      RankRecord* rr = record.rank(r);
      auto it = p.status.ranks.find(r);
      if (it == p.status.ranks.end()) continue;
      rr->alive = it->second.alive;
      if (!it->second.alive) {
        if (it->second.exit_code >= 0) rr->exit_code = it->second.exit_code;
        if (rr->finish.empty()) rr->finish = it->second.finish;
      }
    }
  }

  // Candidate causes by weight: a rank that died without a finish event is the likeliest root
  // cause; a lost node next; a rank that finished "failed" is often collateral (its peer died).
  struct Cause {
    int weight;
    int rank;
    std::string node, text;
  };
  std::vector<Cause> causes;

  for (const auto& rr : record.ranks) {
    const NodePoll* p = rr.node < static_cast<int>(polls.size()) ? &polls[rr.node] : nullptr;
    if (!p || !p->reachable || rr.alive) continue;
    const std::string& node = record.nodes[rr.node].label;
    const std::string who = "rank " + std::to_string(rr.rank) + " on node '" + node + "'";
    if (p->status.job_dir_missing) {
      causes.push_back(
          {0, rr.rank, node,
           who + ": the job folder " + record.nodes[rr.node].job_dir + " is gone from the node"});
    } else if (rr.finish == "failed") {
      causes.push_back({2, rr.rank, node,
                        who + " failed" +
                            (rr.last_error.empty() ? std::string(" (its finish event says failed)")
                                                   : ": " + rr.last_error)});
    } else if (rr.finish.empty() && !p->status.stop_requested) {
      std::string tail;
      auto it = p->status.ranks.find(rr.rank);
      if (it != p->status.ranks.end() && !it->second.stderr_tail.empty())
        tail = "; stderr: " + it->second.stderr_tail;
      causes.push_back(
          {0, rr.rank, node,
           who + " ended without a finish event (" + describe_exit(rr.exit_code) + ")" + tail});
    }
  }

  for (std::size_t n = 0; n < polls.size() && n < record.nodes.size(); ++n) {
    const NodePoll& p = polls[n];
    if (p.reachable || p.unreachable_for_s < node_lost_after_s) continue;
    const auto on = record.ranks_on(static_cast<int>(n));
    std::string ranks;
    for (int r : on) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", p.unreachable_for_s);
    causes.push_back({1, on.empty() ? -1 : on.front(), record.nodes[n].label,
                      "node '" + record.nodes[n].label + "' unreachable for " + secs + " s (" +
                          p.error + "); its ranks " + ranks + " are lost"});
  }
  if (!causes.empty()) {
    const Cause* best = &causes.front();
    for (const auto& c : causes)
      if (c.weight < best->weight) best = &c;
    v.state = JobState::Failed;
    v.rank = best->rank;
    v.node = best->node;
    v.cause = best->text;
    v.stop_others = true;
    v.collateral_only = best->weight == 2;
    return v;
  }

  bool all_ended = true, any_stopped = false;
  for (const auto& rr : record.ranks) {
    all_ended = all_ended && !rr.alive;
    any_stopped = any_stopped || rr.finish == "stopped";
  }
  // Every node must have answered for "ended" to mean anything.
  for (std::size_t n = 0; n < polls.size(); ++n) all_ended = all_ended && polls[n].reachable;
  if (!all_ended) return v;
  if (any_stopped || stop_requested) {
    v.state = JobState::Stopped;
    v.cause = "stopped on request";
  } else {
    v.state = JobState::Completed;
  }
  return v;
}

}  // namespace r1::cluster
