#include "engine/telemetry/host_sampler.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace r1::telemetry {
namespace {

constexpr double kKibPerMib = 1024.0;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The line's whitespace-separated words.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Calls f(line) for each line of text until f returns false.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (!f(line)) return;
    if (nl == std::string_view::npos) return;
    text.remove_prefix(nl + 1);
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<CpuTimes> parse_cpu_times(std::string_view proc_stat) {
  std::optional<CpuTimes> out;
  for_each_line(proc_stat, [&](std::string_view line) {
    const auto w = words(line);
    if (w.empty() || w[0] != "cpu") return true;
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already
    // counted in user and nice.
    std::uint64_t ticks[8] = {};
    std::size_t n = 0;
    for (; n < 8 && n + 1 < w.size(); ++n) {
      const auto v = to_u64(w[n + 1]);
      if (!v) return false;
      ticks[n] = *v;
    }
    if (n < 4) return false;
    const std::uint64_t idle = ticks[3] + ticks[4];
    CpuTimes t;
    for (std::uint64_t x : ticks) t.total += x;
    t.busy = t.total - idle;
    out = t;
    return false;
  });
  return out;
}

std::optional<int> parse_cpu_count(std::string_view proc_stat) {
  int n = 0;
  for_each_line(proc_stat, [&](std::string_view line) {
    if (line.size() > 3 && starts_with(line, "cpu") && line[3] >= '0' && line[3] <= '9') ++n;
    return true;
  });
  if (n == 0) return std::nullopt;
  return n;
}

std::optional<double> cpu_util_percent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return std::nullopt;
  const double busy = static_cast<double>(after.busy - before.busy);
  const double total = static_cast<double>(after.total - before.total);
  if (busy > total) return std::nullopt;
  return 100.0 * busy / total;
}

MemInfo parse_meminfo(std::string_view proc_meminfo) {
  MemInfo m;
  for_each_line(proc_meminfo, [&](std::string_view line) {
    std::optional<double>* field = starts_with(line, "MemTotal:")       ? &m.total_mb
                                   : starts_with(line, "MemAvailable:") ? &m.available_mb
                                                                        : nullptr;
    if (!field) return true;
    const auto w = words(line);
    if (w.size() != 3 || w[2] != "kB") return true;
    if (const auto kib = to_u64(w[1])) *field = static_cast<double>(*kib) / kKibPerMib;
    return true;
  });
  return m;
}

std::optional<double> parse_statm_rss_mb(std::string_view statm, long page_bytes) {
  if (page_bytes <= 0) return std::nullopt;
  std::string_view first_line = statm.substr(0, statm.find('\n'));
  const auto w = words(first_line);
  if (w.size() < 2) return std::nullopt;
  const auto pages = to_u64(w[1]);
  if (!pages) return std::nullopt;
  return static_cast<double>(*pages) * static_cast<double>(page_bytes) / (1024.0 * 1024.0);
}

HostSampler::HostSampler(std::string proc)
    : proc_(std::move(proc)), page_bytes_(sysconf(_SC_PAGESIZE)) {
  last_ = parse_cpu_times(read_text(proc_ + "/stat"));
}

events::Host HostSampler::sample() {
  events::Host h;
  const std::string stat = read_text(proc_ + "/stat");
  const std::optional<CpuTimes> now = parse_cpu_times(stat);
  if (now && last_) h.cpu_util = cpu_util_percent(*last_, *now);
  if (now) last_ = now;
  h.cpus = parse_cpu_count(stat);

  const MemInfo m = parse_meminfo(read_text(proc_ + "/meminfo"));
  h.ram_total_mb = m.total_mb;
  if (m.total_mb && m.available_mb && *m.available_mb <= *m.total_mb)
    h.ram_used_mb = *m.total_mb - *m.available_mb;

  h.rss_mb = parse_statm_rss_mb(read_text(proc_ + "/self/statm"), page_bytes_);
  return h;
}

}  // namespace r1::telemetry
