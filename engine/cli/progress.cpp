#include "engine/cli/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>

namespace r1::cli {

ProgressSink::ProgressSink(int64_t total) : total_(total), tty_(isatty(STDERR_FILENO) != 0) {}

void ProgressSink::bar(const events::Step& s) {
  if (first_step_ < 0) {
    first_step_ = s.step - 1;
    start_ = std::chrono::steady_clock::now();
  }
  const double frac = total_ > 0 ? static_cast<double>(s.step) / static_cast<double>(total_) : 1;
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = s.step - first_step_;
  const double eta = done > 0 ? el / static_cast<double>(done) * static_cast<double>(total_ - s.step)
                              : 0.0;
  // Without a terminal print ~20 lines per run, not one per step.
  if (!tty_ && s.step != total_ && last_printed_ >= 0 &&
      s.step - last_printed_ < std::max<int64_t>(1, total_ / 20))
    return;
  last_printed_ = s.step;
  constexpr int kWidth = 28;
  const int fill = static_cast<int>(std::lround(frac * kWidth));
  std::string b(static_cast<size_t>(fill), '#');
  b.resize(kWidth, '.');
  std::fprintf(stderr, "%s[%s] %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %dm%02ds%s",
               tty_ ? "\r" : "", b.c_str(), static_cast<long long>(s.step),
               static_cast<long long>(total_), s.loss, s.lr, s.tokens_per_s,
               static_cast<int>(eta) / 60, static_cast<int>(eta) % 60, tty_ ? "" : "\n");
  std::fflush(stderr);
}

void ProgressSink::emit(const events::Event& ev) {
  std::lock_guard<std::mutex> lock(mu_);
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        const char* nl = tty_ && last_printed_ >= 0 ? "\n" : "";
        if constexpr (std::is_same_v<T, events::Step>) {
          bar(p);
        } else if constexpr (std::is_same_v<T, events::Eval>) {
          std::fprintf(stderr, "%seval @%lld: loss %.4f  ppl %.2f  %.3f bits/byte\n", nl,
                       static_cast<long long>(p.step), p.loss, p.perplexity, p.bits_per_byte);
        } else if constexpr (std::is_same_v<T, events::Checkpoint>) {
          std::fprintf(stderr, "%scheckpoint @%lld: %s (%.1f MB, %.2f s)\n", nl,
                       static_cast<long long>(p.step), p.path.c_str(), p.bytes / 1e6, p.seconds);
        } else if constexpr (std::is_same_v<T, events::Log>) {
          if (p.level != events::LogLevel::Debug)
            std::fprintf(stderr, "%s[%s] %s\n", nl, events::to_string(p.level), p.text.c_str());
        } else if constexpr (std::is_same_v<T, events::Error>) {
          std::fprintf(stderr, "%serror (%s): %s\n", nl, p.cause.c_str(), p.message.c_str());
        } else if constexpr (std::is_same_v<T, events::RunStart>) {
          std::fprintf(stderr, "run %s on %s: %.2fM parameters (%.2fM active)\n",
                       ev.header.run.c_str(), p.device.c_str(), p.params_total / 1e6,
                       p.params_active / 1e6);
        } else if constexpr (std::is_same_v<T, events::Finish>) {
          std::fprintf(stderr, "%s%s at step %lld after %.1f s", nl, events::to_string(p.status),
                       static_cast<long long>(p.step), p.seconds);
          if (p.best_val_loss) std::fprintf(stderr, ", best val loss %.4f", *p.best_val_loss);
          std::fprintf(stderr, "\n");
        }
        if constexpr (!std::is_same_v<T, events::Step>) {
          // Telemetry prints nothing: the progress bar stays on its line.
          if (!std::is_same_v<T, events::Gpu> && !std::is_same_v<T, events::Host>)
            last_printed_ = tty_ ? -1 : last_printed_;
        }
      },
      ev.payload);
}

}  // namespace r1::cli
