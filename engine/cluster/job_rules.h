#pragma once
// The fault policy of a running job, from one liveness pass over its nodes: a rank that ended
// without a finish event, a rank that finished "failed", or a node out of reach for longer than
// allowed fails the job (naming the rank or node), and the other ranks are to be stopped.
#include "engine/cluster/job_record.h"
#include "engine/cluster/node_scripts.h"
#include "engine/cluster/ssh_failure.h"

#include <string>
#include <vector>

namespace r1::cluster {

struct NodePoll {
  bool reachable = false;
  std::string error;             // when not reachable (names the node)
  double unreachable_for_s = 0;  // since the last successful pass
  StatusOutput status;           // when reachable
};

struct Verdict {
  JobState state = JobState::Running;
  std::string cause;
  int rank = -1;
  std::string node;
  bool stop_others = false;  // failed while other ranks may still run
  // The only cause is a rank that finished "failed": often the echo of a peer's death that the
  // next pass will show, so a caller may look once more before naming it.
  bool collateral_only = false;
};

// How a rank ended, for messages: "killed by signal 9 (SIGKILL)", "exit code 2" …
std::string describe_exit(int exit_code);

// Folds the pass into the record's ranks (alive, exit code, finish) and judges the job.
// polls[i] belongs to record.nodes[i]. A record already in a final state keeps it.
Verdict judge(JobRecord& record, const std::vector<NodePoll>& polls, double node_lost_after_s);

}  // namespace r1::cluster
