#pragma once
// CPU and RAM use of the machine and of this process, read from Linux /proc: the telemetry of a
// node without NVML. The parsers take the files' text, so tests can hand them any; text they
// cannot read leaves the fields empty.
#include "engine/events/event.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace r1::telemetry {

// Cumulative CPU time of all cores since boot, in clock ticks (the "cpu" line of /proc/stat).
struct CpuTimes {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;  // busy + idle + iowait
};

// The "cpu" line of /proc/stat; empty if it is missing or has fewer than 4 counters.
std::optional<CpuTimes> parse_cpu_times(std::string_view proc_stat);
// Number of "cpuN" lines of /proc/stat (online logical CPUs); empty if there are none.
std::optional<int> parse_cpu_count(std::string_view proc_stat);
// Percent of all cores busy between two readings; empty if no tick passed or the counters went
// backwards.
std::optional<double> cpu_util_percent(const CpuTimes& before, const CpuTimes& after);

struct MemInfo {
  std::optional<double> total_mb;      // MemTotal, MiB
  std::optional<double> available_mb;  // MemAvailable, MiB (kernels since 3.14)
};
MemInfo parse_meminfo(std::string_view proc_meminfo);

// Resident set size in MiB from /proc/<pid>/statm (second field, in pages).
std::optional<double> parse_statm_rss_mb(std::string_view statm, long page_bytes);

class HostSampler {
 public:
  // proc: where /proc is mounted (a test points it at a folder of hand-written files). Takes a
  // first /proc/stat reading, so that the first sample() already has cpu_util.
  explicit HostSampler(std::string proc = "/proc");

  // cpu_util covers the time since the previous call (or since construction).
  events::Host sample();

 private:
  std::string proc_;
  long page_bytes_;
  std::optional<CpuTimes> last_;
};

}  // namespace r1::telemetry
