#pragma once
// Dead-peer detection that does not depend on the collective backend. Every rank beats a counter
// in the rendezvous TCPStore once per period (own client connection, own thread) and watches the
// others' counters. A peer whose counter has not moved for `stale_after` (killed, frozen,
// SIGSTOPped, its node gone), or a store that no longer answers (rank 0's process is gone), is
// reported once through `on_lost`, and the verdict is posted in the store so every rank learns
// it at its next beat.
//
// Why: a rank blocked in an NCCL collective whose peer died waits for the collective timeout
// (minutes) — NCCL notices nothing while its peer's process simply no longer exists. r1-worker
// answers `on_lost` by writing its error and finish events and exiting, which is what frees a
// rank stuck in a collective; a caller that cannot exit (ranks on threads, in tests) only reports.
#include "engine/dist/dist_env.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace r1::dist {

struct PeerWatchOptions {
  std::chrono::milliseconds period{1000};
  std::chrono::milliseconds stale_after{6000};
  // Clean end: how long rank 0 keeps the store up for the others' "done" marks.
  std::chrono::milliseconds finish_wait{10000};
};

// R1_PEER_TIMEOUT_S overrides stale_after (seconds; 0 turns the watch off → nullopt).
std::optional<PeerWatchOptions> peer_watch_options_from_environment();

class PeerWatch {
 public:
  using OnLost = std::function<void(const std::string& reason)>;
  // Connects a store client to env.master_addr:master_port (the server is rank 0's process
  // group store, already up). Throws DistError when it cannot.
  PeerWatch(const DistEnv& env, PeerWatchOptions options, OnLost on_lost);
  ~PeerWatch();  // stops watching (no "done" mark: use finish() on a clean end)
  PeerWatch(const PeerWatch&) = delete;
  PeerWatch& operator=(const PeerWatch&) = delete;

  // This rank ends cleanly: mark it done (peers stop watching it) and stop. Rank 0, whose
  // process holds the store, waits up to finish_wait for every rank's mark first, so that no
  // rank finishing later mistakes the store going away for a lost peer.
  void finish();
  // This rank fails (an exception ends its training): post the cause so that every peer learns
  // it at its next beat instead of waiting for a stale heartbeat; then stop.
  void fail(const std::string& reason);

  bool lost() const;  // on_lost has been called

 private:
  struct Impl;
  void loop();
  void stop_thread();
  void report(const std::string& reason);

  DistEnv env_;
  PeerWatchOptions options_;
  OnLost on_lost_;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool lost_ = false;
  std::thread thread_;
};

}  // namespace r1::dist
