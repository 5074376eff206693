#pragma once
// Follows one job: per node, a follower streams the ranks' node-side event logs from the
// record's offsets (backfill, then live); once a second, one liveness pass per node (batched in
// one ssh call) feeds the fault policy (job_rules.h). A failure is reported at once and, unless
// told otherwise, every other rank is stopped. Offsets are saved as lines are delivered (or, with
// MonitorOptions::acknowledged, as the consumer acknowledges them), so a later attach sends
// exactly the lines not delivered (acknowledged) yet.
//
// Callbacks run on the monitor's threads, one at a time; they must not destroy the monitor.
// Destroying the monitor stops following; the job keeps running on its nodes.
#include "engine/cluster/follower.h"
#include "engine/cluster/job_record.h"
#include "engine/cluster/job_store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace r1::cluster {

class Launcher;
class ProcessStream;
class SshSession;

struct MonitorOptions {
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds node_lost_after{4000};  // unreachable this long: the node is lost
  std::chrono::seconds stop_grace{10};
  bool stop_on_failure = true;  // stop the other ranks when one fails
  // The record keeps as each rank's resume point the line last acknowledge()d rather than the
  // line last delivered: for a consumer that stores lines asynchronously (the workbench's run
  // store), so that lines it had not stored when it was killed are sent again at the next attach.
  bool acknowledged = false;
};

struct JobUpdate {
  enum class Kind {
    State,    // the job's state changed (message: the cause, for failed and stopped)
    Warning,  // something to know that changed nothing yet (node reconnecting, bad line …)
    Cleanup,  // the ranks were stopped after a failure (message: the stop summary)
  };
  Kind kind = Kind::State;
  JobState state = JobState::Running;
  std::string message;
  int rank = -1;
  std::string node;
};

struct MonitorCallbacks {
  std::function<void(const RankLine&)> on_line;
  std::function<void(const JobUpdate&)> on_update;
};

class JobMonitor {
 public:
  // Use Launcher::attach, which takes the job's lock.
  JobMonitor(const Launcher& launcher, JobRecord record, std::unique_ptr<JobLock> lock,
             MonitorCallbacks callbacks, MonitorOptions options);
  ~JobMonitor();
  JobMonitor(const JobMonitor&) = delete;
  JobMonitor& operator=(const JobMonitor&) = delete;

  // Waits until the job has ended and its lines have been delivered; false on timeout.
  bool wait(std::chrono::milliseconds timeout);
  bool done() const { return done_.load(); }
  JobRecord record() const;

  // Stops the job on every node (blocks for the grace period at most, plus verification).
  void stop_job();

  // With MonitorOptions::acknowledged: the consumer has stored `rank`'s lines up to `upto`
  // (a cursor of a delivered RankLine: {end_offset, line}); saved at once.
  void acknowledge(int rank, RankCursor upto);

 private:
  struct Follow;

  void supervise();
  void start_follower(std::size_t node);
  void on_line(std::size_t node, RankLine&& line);
  void update(const JobUpdate& u);
  void save_locked();
  void finish_if_settled(bool force);
  bool drained_locked();  // every rank acknowledged up to its end (mutex_ held)

  const Launcher& launcher_;
  std::unique_ptr<JobLock> lock_;
  MonitorCallbacks callbacks_;
  MonitorOptions options_;
  std::vector<std::unique_ptr<SshSession>> sessions_;

  mutable std::mutex mutex_;  // record_, follows_' flags
  JobRecord record_;
  std::map<int, RankCursor> acknowledged_;  // by rank, with MonitorOptions::acknowledged
  bool dirty_ = false;
  std::vector<std::unique_ptr<Follow>> follows_;
  std::chrono::steady_clock::time_point final_since_{};
  bool announced_final_ = false;
  bool settled_ = false;  // the ranks' ends are known (RankRecord::end)
  bool deferred_collateral_ = false;
  std::optional<std::chrono::steady_clock::time_point> collateral_since_;
  static constexpr std::chrono::milliseconds kCollateralGrace{1500};

  std::mutex callback_mutex_;
  std::mutex save_mutex_;
  std::atomic<bool> quit_{false};
  std::atomic<bool> done_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::thread supervisor_;
};

}  // namespace r1::cluster
