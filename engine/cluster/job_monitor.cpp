#include "engine/cluster/job_monitor.h"

#include "engine/cluster/job_rules.h"
#include "engine/cluster/launcher.h"
#include "engine/cluster/node_scripts.h"
#include "engine/cluster/process.h"
#include "engine/cluster/ssh_session.h"

#include <algorithm>
#include <variant>

namespace r1::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After the job ended, followers get this long to deliver the last lines.
constexpr auto kDrainWindow = std::chrono::seconds(10);
constexpr auto kRestartEvery = std::chrono::seconds(2);
constexpr milliseconds kRetryUnreachable{250};

}  // namespace

struct JobMonitor::Follow {
  std::unique_ptr<ProcessStream> stream;
  std::unique_ptr<FrameParser> parser;  // used by the stream's thread while it runs
  bool running = false;
  bool ended = false;   // "E": every rank there ended and its log was sent
  bool broken = false;  // protocol error: to be restarted
  Clock::time_point started{};
  std::string last_error;
};

JobMonitor::JobMonitor(const Launcher& launcher, JobRecord record, std::unique_ptr<JobLock> lock,
                       MonitorCallbacks callbacks, MonitorOptions options)
    : launcher_(launcher),
      lock_(std::move(lock)),
      callbacks_(std::move(callbacks)),
      options_(options),
      record_(std::move(record)) {
  if (options_.acknowledged)
    for (const auto& r : record_.ranks) acknowledged_[r.rank] = {r.offset, r.lines};
  const Profile profile = Launcher::record_profile(record_);
  for (std::size_t i = 0; i < record_.nodes.size(); ++i) {
    sessions_.push_back(std::make_unique<SshSession>(launcher_.session(profile, i)));
    follows_.push_back(std::make_unique<Follow>());
    if (record_.nodes[i].job_dir.empty()) follows_.back()->ended = true;
  }
  supervisor_ = std::thread(&JobMonitor::supervise, this);
}

JobMonitor::~JobMonitor() {
  quit_ = true;
  wait_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  for (auto& f : follows_)
    if (f->stream) f->stream->terminate();
  std::lock_guard<std::mutex> lock(mutex_);
  dirty_ = true;
  try {
    save_locked();
  } catch (...) {  // a destructor does not throw; the record keeps its last saved state
  }
}

JobRecord JobMonitor::record() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return record_;
}

bool JobMonitor::wait(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  return wait_cv_.wait_for(lock, timeout, [&] { return done_.load(); });
}

void JobMonitor::update(const JobUpdate& u) {
  std::lock_guard<std::mutex> lock(callback_mutex_);
  if (callbacks_.on_update) callbacks_.on_update(u);
}

void JobMonitor::save_locked() {
  if (!dirty_) return;
  std::lock_guard<std::mutex> lock(save_mutex_);
  if (options_.acknowledged) {
    JobRecord saved = record_;
    for (auto& r : saved.ranks) {
      const RankCursor& a = acknowledged_[r.rank];
      r.offset = a.offset;
      r.lines = a.lines;
    }
    launcher_.store().save(saved);
  } else {
    launcher_.store().save(record_);
  }
  dirty_ = false;
}

bool JobMonitor::drained_locked() {
  if (!options_.acknowledged) return true;  // delivered is all a consumer gets
  for (const auto& r : record_.ranks)
    if (acknowledged_[r.rank].offset < r.end) return false;
  return true;
}

void JobMonitor::acknowledge(int rank, RankCursor upto) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!options_.acknowledged || !record_.rank(rank)) return;
  RankCursor& a = acknowledged_[rank];
  if (upto.lines <= a.lines) return;
  a = upto;
  if (settled_) record_.drained = drained_locked();
  dirty_ = true;
  try {
    save_locked();
  } catch (const std::exception&) {  // saved with the next change; a re-attach resends at worst
  }
}

void JobMonitor::on_line(std::size_t node, RankLine&& line) {
  {
    std::lock_guard<std::mutex> lock(callback_mutex_);
    if (callbacks_.on_line) callbacks_.on_line(line);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  RankRecord* rr = record_.rank(line.rank);
  if (!rr) return;
  rr->offset = line.end_offset;
  rr->lines = line.line;
  dirty_ = true;
  if (!line.decoded.ok()) return;
  const auto& p = line.decoded.event->payload;
  if (const auto* f = std::get_if<events::Finish>(&p)) {
    rr->finish = events::to_string(f->status);
  } else if (const auto* e = std::get_if<events::Error>(&p)) {
    rr->last_error = e->message + (e->cause.empty() ? "" : " (" + e->cause + ")");
  } else if (const auto* c = std::get_if<events::Checkpoint>(&p)) {
    if (c->step >= record_.last_checkpoint_step) {
      record_.last_checkpoint = c->path;
      record_.last_checkpoint_step = c->step;
    }
  }
  (void)node;
}

void JobMonitor::start_follower(std::size_t i) {
  Follow& f = *follows_[i];
  if (f.stream) {
    f.stream->terminate();  // joins its thread; no lock held here
    f.stream.reset();
  }
  std::map<int, RankCursor> cursors;
  std::map<int, std::int64_t> offsets;
  std::string job_dir;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int r : record_.ranks_on(static_cast<int>(i))) {
      const RankRecord* rr = record_.rank(r);
      cursors[r] = {rr->offset, rr->lines};
      offsets[r] = rr->offset;
    }
    job_dir = record_.nodes[i].job_dir;
    f.running = true;
    f.broken = false;
    f.started = Clock::now();
    f.last_error.clear();
  }
  FrameParser::Sink sink;
  sink.line = [this, i](RankLine&& l) { on_line(i, std::move(l)); };
  sink.end = [this, i] {
    std::lock_guard<std::mutex> lock(mutex_);
    follows_[i]->ended = true;
  };
  sink.truncated = [this, i](int rank, std::int64_t size) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (RankRecord* rr = record_.rank(rank)) rr->offset = size;
      dirty_ = true;
    }
    update({JobUpdate::Kind::Warning, record().state,
            "rank " + std::to_string(rank) + "'s events.jsonl shrank to " + std::to_string(size) +
                " bytes (replaced?); following it from there",
            rank, record_.nodes[i].label});
  };
  sink.missing = [this, i] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      follows_[i]->ended = true;  // nothing to follow there
    }
    update({JobUpdate::Kind::Warning, record().state,
            sessions_[i]->who() + ": the job folder is gone", -1, sessions_[i]->node().label()});
  };
  f.parser = std::make_unique<FrameParser>(cursors, sink);
  FrameParser* parser = f.parser.get();
  auto on_output = [this, i, parser](std::string_view chunk) {
    const bool ok = parser->feed(chunk);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ok && !follows_[i]->broken) {
      follows_[i]->broken = true;
      follows_[i]->last_error = sessions_[i]->who() + ": " + parser->error();
    }
    try {
      save_locked();  // delivered lines are on disk before more are read
    } catch (const std::exception&) {
    }
  };
  auto on_exit = [this, i](const SshResult& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    Follow& fo = *follows_[i];
    fo.running = false;
    if (!fo.ended && fo.last_error.empty())
      fo.last_error =
          r.failure ? r.failure.message
                    : sessions_[i]->who() + ": log follower ended (" + r.process.describe() + ")";
  };
  f.stream = sessions_[i]->stream(follow_script(job_dir, offsets), on_output, on_exit);
}

void JobMonitor::stop_job() {
  StopReport sr = launcher_.stop_ranks(record(), options_.stop_grace);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    record_.cleanup = sr.summary;
    dirty_ = true;
    save_locked();
  }
  update({JobUpdate::Kind::Cleanup, record().state, sr.summary, -1, {}});
}

void JobMonitor::finish_if_settled(bool force) {
  bool announce = false;
  JobUpdate u;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!is_final(record_.state)) return;
    bool all_ended = true;
    for (const auto& f : follows_) all_ended = all_ended && f->ended;
    if (!force && !all_ended && Clock::now() - final_since_ <= kDrainWindow) return;
    // Every line read (or the drain window is over): what the logs hold now is their end, and
    // the job is drained once the consumer has acknowledged up to it.
    for (auto& r : record_.ranks) r.end = r.offset;
    settled_ = true;
    record_.drained = drained_locked();
    if (!announced_final_) {  // completed / stopped: said once the last lines are delivered
      announced_final_ = true;
      announce = true;
      u = {JobUpdate::Kind::State, record_.state, record_.cause, record_.failed_rank,
           record_.failed_node};
    }
    dirty_ = true;
    save_locked();
  }
  if (announce) update(u);
  {
    std::lock_guard<std::mutex> lock(wait_mutex_);
    done_ = true;
  }
  wait_cv_.notify_all();
}

void JobMonitor::supervise() {
  const std::size_t n = follows_.size();
  std::vector<Clock::time_point> last_ok(n, Clock::now());
  std::vector<Clock::time_point> last_start(n, Clock::time_point{});
  const milliseconds poll_timeout =
      std::max(milliseconds(1000), options_.node_lost_after - milliseconds(500));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (is_final(record_.state)) {
      final_since_ = Clock::now();
      announced_final_ = false;
    }
  }
  while (!quit_) {
    const auto tick = Clock::now();
    // Followers: (re)start where one is not running and its node has not ended.
    for (std::size_t i = 0; i < n && !quit_; ++i) {
      bool need = false;
      std::string why;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        const Follow& f = *follows_[i];
        need = !f.ended && (!f.running || f.broken) &&
               (last_start[i] == Clock::time_point{} || tick - last_start[i] >= kRestartEvery);
        why = f.last_error;
      }
      if (!need) continue;
      if (last_start[i] != Clock::time_point{} && !why.empty())
        update({JobUpdate::Kind::Warning, record().state,
                why + "; following its logs again from the last delivered line", -1,
                sessions_[i]->node().label()});
      last_start[i] = tick;
      start_follower(i);
    }

    JobRecord snapshot = record();
    bool any_unreachable = false;
    if (!is_final(snapshot.state)) {
      std::vector<NodeStatus> st = launcher_.poll(snapshot, poll_timeout);
      const auto now = Clock::now();
      std::vector<NodePoll> polls(n);
      for (std::size_t i = 0; i < n; ++i) {
        polls[i].reachable = st[i].reachable;
        polls[i].error = st[i].error;
        polls[i].status = st[i].status;
        if (st[i].reachable) last_ok[i] = now;
        any_unreachable = any_unreachable || !st[i].reachable;
        polls[i].unreachable_for_s = std::chrono::duration<double>(now - last_ok[i]).count();
      }
      Verdict v;
      bool failed_now = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        JobRecord trial = record_;
        v = judge(trial, polls, std::chrono::duration<double>(options_.node_lost_after).count());
        // Only collateral failures (a rank that ended "failed", e.g. its all-reduce lost a
        // peer): the peer that caused it may not be seen dead yet — its exit is recorded a
        // moment after the survivor's error. Wait a little (at least one more pass) to name
        // the root cause if there is one.
        if (v.collateral_only && !collateral_since_) collateral_since_ = now;
        if (v.collateral_only &&
            (!deferred_collateral_ || now - *collateral_since_ < kCollateralGrace)) {
          deferred_collateral_ = true;
          v.state = record_.state;
        } else {
          record_ = std::move(trial);
        }
        dirty_ = true;
        if (v.state != record_.state) {
          record_.state = v.state;
          record_.cause = v.cause;
          record_.failed_rank = v.rank;
          record_.failed_node = v.node;
          final_since_ = now;
          failed_now = v.state == JobState::Failed;
          if (failed_now) announced_final_ = true;  // announced right here, not after the drain
        }
        save_locked();
      }
      if (failed_now) {
        update({JobUpdate::Kind::State, JobState::Failed, v.cause, v.rank, v.node});
        if (options_.stop_on_failure && v.stop_others) {
          StopReport sr = launcher_.stop_ranks(record(), options_.stop_grace);
          {
            std::lock_guard<std::mutex> lock(mutex_);
            record_.cleanup = sr.summary;
            for (auto& r : record_.ranks) r.alive = false;
            dirty_ = true;
            save_locked();
          }
          update({JobUpdate::Kind::Cleanup, JobState::Failed, sr.summary, -1, {}});
        }
      }
    }
    finish_if_settled(false);
    if (done_) break;

    // A node that did not answer is asked again sooner, so that "lost" is decided close to
    // node_lost_after rather than up to a poll interval later.
    const auto next = any_unreachable
                          ? std::min<milliseconds>(options_.poll_interval, kRetryUnreachable)
                          : options_.poll_interval;
    std::unique_lock<std::mutex> lock(wait_mutex_);
    wait_cv_.wait_until(lock, tick + next, [&] { return quit_.load(); });
  }
}

}  // namespace r1::cluster
