#pragma once
// The SSH launcher: probes nodes, checks and trusts host keys, launches a data-parallel job
// (one detached rank per GPU or CPU slot, torchrun's environment), stops it everywhere and
// verifies that nothing is left, reports its status, and resumes it from its last checkpoint.
// Following a job (events, faults) is JobMonitor's work (job_monitor.h), started by attach().
//
// Nothing here blocks without a deadline; calls that touch several nodes run them in parallel.
#include "engine/cluster/cluster_error.h"
#include "engine/cluster/host_keys.h"
#include "engine/cluster/job_record.h"
#include "engine/cluster/job_store.h"
#include "engine/cluster/node_scripts.h"
#include "engine/cluster/probe.h"
#include "engine/cluster/profile.h"
#include "engine/cluster/ssh_session.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace r1::cluster {

class JobMonitor;
struct MonitorCallbacks;
struct MonitorOptions;

// A launch that did not start every rank; the ranks that did start have been stopped.
class LaunchError : public ClusterError {
 public:
  using ClusterError::ClusterError;
};

struct LauncherOptions {
  std::string state_dir;                     // empty: default_state_dir()
  std::string control_dir;                   // empty: default_control_dir()
  std::chrono::seconds command_timeout{60};  // one remote script (launch, probe, copy: longer)
  std::chrono::seconds stop_grace{10};       // SIGTERM → SIGKILL
};

struct LaunchRequest {
  Profile profile;
  std::string profile_path;            // for the record
  std::string experiment_path;         // the experiment TOML (read unless experiment_toml is given)
  std::string experiment_toml;         // its text, when it is not to be read from experiment_path
  std::vector<std::string> overrides;  // key=value, given to every rank as --set
  std::string resumed_from;            // job id, for the record
};

struct NodeStop {
  std::string node;
  bool reached = false;
  std::string error;
  StopOutput result;
};

struct StopReport {
  std::vector<NodeStop> nodes;
  bool verified = false;  // every node answered and no process of the job is left
  std::string summary;    // one line for people
};

struct NodeStatus {
  std::string node;
  bool reachable = false;
  std::string error;
  StatusOutput status;
};

struct StatusReport {
  JobRecord record;  // with ranks and state updated from this look
  std::vector<NodeStatus> nodes;
  bool updated_record = false;  // false when a follower holds the job (it keeps the record)
};

class Launcher {
 public:
  explicit Launcher(LauncherOptions options = {});
  ~Launcher();

  const LauncherOptions& options() const { return options_; }
  const JobStore& store() const { return store_; }
  SshSession session(const Profile& profile, std::size_t node) const;

  std::vector<NodeInfo> probe(const Profile& profile) const;
  std::vector<HostKeyCheck> check_host_keys(const Profile& profile) const;
  // Trusts the nodes given by label (all when empty); see trust_host_key.
  std::vector<HostKeyCheck> trust(const Profile& profile, const std::vector<std::string>& nodes,
                                  const std::vector<std::string>& fingerprints = {}) const;

  // Starts every rank; returns the saved record (state running). Throws ProfileError or
  // r1::ConfigError before touching a node, LaunchError when a node failed.
  JobRecord launch(const LaunchRequest& request) const;

  // Follows the job: backfills events from the record's offsets, then streams them and watches
  // the ranks. Throws JobError when another launcher follows it already.
  std::unique_ptr<JobMonitor> attach(const std::string& job_id, const MonitorCallbacks& callbacks,
                                     const MonitorOptions& options) const;

  StatusReport status(const std::string& job_id) const;

  // SIGTERM, grace, SIGKILL on every node, then verifies. Updates the record unless a follower
  // holds it (that follower records the stop when it sees it).
  StopReport stop(const std::string& job_id,
                  std::optional<std::chrono::seconds> grace = std::nullopt) const;
  // The same on a record, without touching the store.
  StopReport stop_ranks(const JobRecord& record, std::chrono::seconds grace) const;

  // Relaunches an ended job from its latest checkpoint (or `checkpoint`), copying the file to
  // nodes that lack it, with the job's overrides plus `overrides` (key=value; a later value of a
  // key wins). Returns the new job's record.
  JobRecord resume(const std::string& job_id, const std::string& checkpoint = {},
                   const std::vector<std::string>& overrides = {}) const;

  // ssh -O exit for every node of the profile.
  void close_connections(const Profile& profile) const;

  // The profile a record was launched with.
  static Profile record_profile(const JobRecord& record);

 private:
  std::vector<NodeStatus> poll(const JobRecord& record, std::chrono::milliseconds timeout) const;
  std::string find_checkpoint(const JobRecord& record, const Profile& profile) const;
  void stage_file(const Profile& profile, std::size_t from, std::size_t to,
                  const std::string& path) const;

  LauncherOptions options_;
  JobStore store_;
  std::string control_dir_;

  friend class JobMonitor;
};

}  // namespace r1::cluster
