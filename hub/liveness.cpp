#include "hub/liveness.hpp"

#include <algorithm>

namespace chainlab::hub {

bool Liveness::heard(Clock::time_point now) {
  bool became_busy =
      !busy_ && last_heard_ != Clock::time_point::min() && now - last_heard_ < kBusyWindow;
  busy_ = busy_ || became_busy;
  last_heard_ = now;
  return became_busy;
}

Liveness::Clock::time_point Liveness::next_wake() const {
  return busy_ ? std::min(deadline_, last_heard_ + kBusyWindow) : deadline_;
}

Liveness::Due Liveness::due(Clock::time_point now) {
  if (now >= deadline_)
    return Due::expire;
  if (busy_ && now - last_heard_ >= kBusyWindow) {
    busy_ = false;
    return Due::release_buffers;
  }
  return Due::nothing;
}

} // namespace chainlab::hub
