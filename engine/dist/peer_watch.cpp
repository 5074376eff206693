#include "engine/dist/peer_watch.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <vector>

namespace r1::dist {
namespace {

using Clock = std::chrono::steady_clock;

std::string beat_key(int rank) { return "r1/watch/beat/" + std::to_string(rank); }
std::string done_key(int rank) { return "r1/watch/done/" + std::to_string(rank); }
const std::string kLostKey = "r1/watch/lost";

std::string seconds_text(std::chrono::milliseconds ms) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  return b;
}

}  // namespace

std::optional<PeerWatchOptions> peer_watch_options_from_environment() {
  PeerWatchOptions o;
  if (const char* t = std::getenv("R1_PEER_TIMEOUT_S"); t && *t) {
    char* end = nullptr;
    const double s = std::strtod(t, &end);
    if (end == t || *end != '\0' || s < 0)
      throw DistError(std::string("R1_PEER_TIMEOUT_S='") + t +
                      "': expected seconds (a number >= 0; 0 turns the peer watch off)");
    if (s == 0) return std::nullopt;
    o.stale_after = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
    if (o.stale_after < 2 * o.period) o.stale_after = 2 * o.period;
  }
  return o;
}

struct PeerWatch::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

PeerWatch::PeerWatch(const DistEnv& env, PeerWatchOptions options, OnLost on_lost)
    : env_(env), options_(options), on_lost_(std::move(on_lost)), impl_(std::make_unique<Impl>()) {
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = false;
    so.waitWorkers = false;
    so.timeout = std::max(options_.stale_after, std::chrono::milliseconds(5000));
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    impl_->store->add(beat_key(env_.rank), 1);
  } catch (const std::exception& e) {
    throw DistError("peer watch: cannot reach the rendezvous store at " + env.master_addr + ":" +
                    std::to_string(env.master_port) + ": " + e.what());
  }
  thread_ = std::thread([this] { loop(); });
}

PeerWatch::~PeerWatch() { stop_thread(); }

void PeerWatch::stop_thread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PeerWatch::lost() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

void PeerWatch::report(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lost_ || stop_) return;
    lost_ = true;
  }
  if (on_lost_) on_lost_(reason);
}

void PeerWatch::finish() {
  stop_thread();
  try {
    impl_->store->set(done_key(env_.rank), std::vector<uint8_t>{'1'});
    if (env_.rank == 0) {
      std::vector<std::string> keys;
      for (int r = 1; r < env_.world_size; ++r) keys.push_back(done_key(r));
      if (!keys.empty()) impl_->store->wait(keys, options_.finish_wait);
    }
  } catch (const std::exception&) {
    // A peer that never marks itself done is already failing on its own; nothing to add here.
  }
}

void PeerWatch::fail(const std::string& reason) {
  stop_thread();
  try {
    const std::string text = "rank " + std::to_string(env_.rank) + " failed: " + reason;
    if (!impl_->store->check({kLostKey}))
      impl_->store->set(kLostKey, std::vector<uint8_t>(text.begin(), text.end()));
  } catch (const std::exception&) {
  }
}

void PeerWatch::loop() {
  const int n = env_.world_size;
  std::vector<int64_t> last(static_cast<size_t>(n), -1);
  std::vector<Clock::time_point> changed(static_cast<size_t>(n), Clock::now());
  std::vector<bool> done(static_cast<size_t>(n), false);
  auto& store = *impl_->store;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    std::string verdict;
    try {
      store.add(beat_key(env_.rank), 1);
      if (store.check({kLostKey})) {
        auto v = store.get(kLostKey);
        verdict = std::string(v.begin(), v.end());
      }
      const auto now = Clock::now();
      for (int r = 0; r < n && verdict.empty(); ++r) {
        const auto i = static_cast<size_t>(r);
        if (r == env_.rank || done[i]) continue;
        if (store.check({done_key(r)})) {
          done[i] = true;
          continue;
        }
        const int64_t v = store.add(beat_key(r), 0);
        if (v != last[i]) {
          last[i] = v;
          changed[i] = now;
        } else if (now - changed[i] >= options_.stale_after) {
          const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - changed[i]);
          verdict = "rank " + std::to_string(r) + " has not been heard from for " +
                    seconds_text(silent) + " (its process was killed, is frozen, or its node was "
                    "lost)";
          const std::string text = verdict + " [seen by rank " + std::to_string(env_.rank) + "]";
          if (!store.check({kLostKey}))
            store.set(kLostKey, std::vector<uint8_t>(text.begin(), text.end()));
        }
      }
    } catch (const std::exception& e) {
      verdict = "the rendezvous store at " + env_.master_addr + ":" +
                std::to_string(env_.master_port) +
                " stopped answering (rank 0's process is gone?): " +
                std::string(e.what()).substr(0, 300);
    }
    lock.lock();
    if (stop_) break;
    if (!verdict.empty()) {
      lock.unlock();
      report("data parallel: " + verdict);
      return;
    }
    cv_.wait_for(lock, options_.period, [this] { return stop_; });
  }
}

}  // namespace r1::dist
