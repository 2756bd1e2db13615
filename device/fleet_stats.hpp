// device/fleet_stats.hpp: what a load run measures: latencies (kept whole,
// so percentiles are exact), failures by reason, and the server process's
// CPU time and resident memory read from /proc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chainlab::device {

class LoadStats {
public:
  void success(std::chrono::steady_clock::duration latency);
  void failure(const std::string &reason) { ++failures_[reason]; }
  std::size_t successes() const { return latencies_us_.size(); }
  std::size_t failed() const;
  // percentile in milliseconds (p in 0..100); 0 without samples.
  double percentile_ms(double p) const;
  const std::map<std::string, std::size_t> &failures() const { return failures_; }

private:
  mutable std::vector<std::uint32_t> latencies_us_;
  mutable bool sorted_ = true;
  std::map<std::string, std::size_t> failures_;
};

struct ProcessSample {
  double cpu_seconds = 0; // user + system since the process started
  std::uint64_t rss_bytes = 0;
};

// sample_process reads /proc/<pid>; nullopt if the process is gone.
std::optional<ProcessSample> sample_process(int pid);

} // namespace chainlab::device
