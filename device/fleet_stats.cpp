#include "device/fleet_stats.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace chainlab::device {

void LoadStats::success(std::chrono::steady_clock::duration latency) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  latencies_us_.push_back(std::uint32_t(std::clamp<long long>(us, 0, UINT32_MAX)));
  sorted_ = false;
}

std::size_t LoadStats::failed() const {
  std::size_t total = 0;
  for (const auto &[reason, count] : failures_)
    total += count;
  return total;
}

double LoadStats::percentile_ms(double p) const {
  if (latencies_us_.empty())
    return 0;
  if (!sorted_) {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    sorted_ = true;
  }
  auto rank = std::size_t(p / 100.0 * double(latencies_us_.size() - 1) + 0.5);
  return latencies_us_[std::min(rank, latencies_us_.size() - 1)] / 1000.0;
}

std::optional<ProcessSample> sample_process(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line))
    return std::nullopt;
  // Fields after the command name (which may hold spaces) start at ") ".
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0, rss_pages = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14)
      utime = std::stoull(field);
    else if (index == 15)
      stime = std::stoull(field);
    else if (index == 24) {
      rss_pages = std::stoull(field);
      break;
    }
  }
  double ticks = double(::sysconf(_SC_CLK_TCK));
  return ProcessSample{double(utime + stime) / ticks,
                       rss_pages * std::uint64_t(::sysconf(_SC_PAGESIZE))};
}

} // namespace chainlab::device
