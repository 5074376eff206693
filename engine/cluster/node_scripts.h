#pragma once
// The sh programs the launcher runs on a node (through `sh -s`), and readers of what they print.
// Values enter only through sh_quote; rank numbers and pids are integers.
//
// Node-side layout of a job (docs/CLUSTER.md):
//   <remote_workdir>/<job_id>/experiment.toml
//   <remote_workdir>/<job_id>/stop_requested         (present once a stop began)
//   <remote_workdir>/<job_id>/rank<R>/run.sh          (the rank's launcher; can be rerun by hand)
//   <remote_workdir>/<job_id>/rank<R>/events.jsonl    (r1-worker train --jsonl -q stdout)
//   <remote_workdir>/<job_id>/rank<R>/stderr.log
//   <remote_workdir>/<job_id>/rank<R>/pgid, pid, exit_code
//   <remote_workdir>/<job_id>/rank<R>/<run.name>/     (the worker's run folder: checkpoints …)
// A rank is alive while its wrapper (pid = pgid) or its worker (pid) is a live, non-zombie
// process whose working directory is the rank folder; a reused pid never counts as the rank.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace r1::cluster {

struct RankLaunch {
  int rank = 0;
  int local_rank = 0;
};

struct NodeLaunch {
  std::string job_id;
  std::string job_dir;  // remote; relative paths are relative to the remote home
  std::string experiment_toml;
  std::string worker;
  std::string setup;
  std::vector<std::pair<std::string, std::string>> env;  // exported to every rank, in order
  bool set_omp_threads = true;                           // OMP_NUM_THREADS=1 unless set
  std::vector<std::string> worker_args;  // after `train`, before the per-rank --set run.dir
  std::string node_label;
  int local_world_size = 0;
  std::vector<RankLaunch> ranks;
};

std::string launch_script(const NodeLaunch& in);
std::string rank_run_script(const NodeLaunch& in, const RankLaunch& rank);

struct LaunchedRank {
  int rank = -1;
  long pgid = 0, pid = 0;
  int exit_code = -1;  // -1: still running
  std::string stderr_tail;
};

struct LaunchOutput {
  std::string job_dir;  // absolute, physical
  std::string error;    // the script's own error line ("error ...")
  std::vector<LaunchedRank> ranks;
};
LaunchOutput parse_launch_output(const std::string& out);

// One liveness pass over the node's ranks.
std::string status_script(const std::string& job_dir, const std::vector<int>& ranks);

struct RankProbe {
  int rank = -1;
  bool alive = false;
  int exit_code = -1;  // from the wrapper, once the worker ended (-1: unknown)
  std::string finish;  // status of a finish event at the end of its log, or empty
  std::string stderr_tail;
};

struct StatusOutput {
  bool complete = false;  // the script ran to its end
  bool job_dir_missing = false;
  bool stop_requested = false;
  std::map<int, RankProbe> ranks;
};
StatusOutput parse_status_output(const std::string& out);

// Follows the ranks' event logs from byte offsets, printing frames (see follower.h) until every
// rank is dead and its log is read, or the connection drops.
std::string follow_script(const std::string& job_dir, const std::map<int, std::int64_t>& offsets);

// SIGTERM to every live rank's process group, SIGKILL after grace_s, then a scan of the process
// table for anything still working in the job's rank folders.
std::string stop_script(const std::string& job_dir, const std::vector<int>& ranks, int grace_s);

struct StopOutput {
  bool complete = false;  // the script ran to its end
  bool job_dir_missing = false;
  std::vector<int> termed, killed, alive_after;  // ranks
  std::vector<std::string> leftovers;            // "pid cwd" of processes still there
};
StopOutput parse_stop_output(const std::string& out);

// The last checkpoint event line of a rank's log ("" when none), and whether its file exists.
std::string last_checkpoint_script(const std::string& job_dir, int rank);

// Size of a file on the node (-1 when absent).
std::string file_size_script(const std::string& path);

}  // namespace r1::cluster
