#pragma once
// The local record of a job: enough to find, follow, stop and resume it after the launcher (or
// the workbench) has gone. Saved as JSON by JobStore.
#include <cstdint>
#include <string>
#include <vector>

namespace r1::cluster {

enum class JobState { Launching, Running, Completed, Failed, Stopped };
const char* to_string(JobState state);
bool parse_job_state(const std::string& text, JobState* state);
inline bool is_final(JobState s) {
  return s == JobState::Completed || s == JobState::Failed || s == JobState::Stopped;
}

struct RankRecord {
  int rank = 0;
  int node = 0;  // index into the profile's nodes
  int local_rank = 0;
  long pgid = 0;            // the rank's process group on the node (its wrapper's pid)
  long pid = 0;             // the worker's pid
  std::int64_t offset = 0;  // bytes of rank<R>/events.jsonl delivered to a consumer
  std::int64_t lines = 0;   // lines delivered
  std::int64_t end = -1;  // bytes of that log once the job had ended and all was read (-1 before)
  bool alive = false;       // at the last look
  int exit_code = -1;       // the worker's exit status once known (-1: unknown)
  std::string finish;       // status of its finish event ("completed", "stopped", "failed")
  std::string last_error;   // message of its last error event
};

struct NodeRecord {
  std::string label;
  std::string job_dir;  // absolute on the node
};

struct JobRecord {
  int version = 1;
  std::string id;
  std::string profile_path;  // where the profile came from (for people)
  std::string profile_toml;  // the profile as launched: a record stands on its own
  std::string experiment_path;
  std::string experiment_toml;
  std::vector<std::string> overrides;  // --set key=value given to every rank
  double created = 0, updated = 0;     // unix seconds
  JobState state = JobState::Launching;
  std::string cause;  // why it failed or stopped, naming the rank or node
  int failed_rank = -1;
  std::string failed_node;
  int world_size = 0;
  std::string master_addr;
  int master_port = 0;
  bool gpu = false;
  std::vector<NodeRecord> nodes;
  std::vector<RankRecord> ranks;
  std::string last_checkpoint;  // path on rank 0's node, from the latest checkpoint event
  std::int64_t last_checkpoint_step = -1;
  std::string resumed_from;  // job id
  std::string cleanup;       // what the last stop found ("verified: no process left" …)
  // Every rank's log read to its end after the job ended, and acknowledged up to it by the
  // consumer. An ended job that is not drained still has lines for its consumer (the workbench
  // killed between the job's end and storing its last lines): follow it again. Records written
  // before this field read as drained.
  bool drained = false;

  RankRecord* rank(int r);
  const RankRecord* rank(int r) const;
  std::vector<int> ranks_on(int node) const;
};

// An ended job whose last lines no consumer has acknowledged yet (JobRecord::drained).
bool needs_draining(const JobRecord& record);

std::string to_json(const JobRecord& record);
// Throws JobError naming origin and the field.
JobRecord job_from_json(const std::string& text, const std::string& origin);

}  // namespace r1::cluster
