#pragma once
// A console view of the event stream: a progress bar with loss, tokens/s and ETA on stderr,
// and one line per eval, checkpoint, warning and error.
#include "engine/events/sink.h"

#include <chrono>
#include <cstdint>
#include <mutex>

namespace r1::cli {

class ProgressSink final : public events::EventSink {
 public:
  explicit ProgressSink(int64_t total_steps);
  void emit(const events::Event& ev) override;

 private:
  void bar(const events::Step& s);
  int64_t total_;
  bool tty_;
  int64_t last_printed_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int64_t first_step_ = -1;
  std::mutex mu_;
};

}  // namespace r1::cli
