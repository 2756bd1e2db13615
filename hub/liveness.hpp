// hub/liveness.hpp: when a device connection is due for something, as pure
// logic (no Asio): its deadline (connect, keep-alive, shutdown), and whether
// it is busy enough to keep OpenSSL's record buffers.
//
// The deadline moves with every packet, but the timer is not re-armed for
// each: it wakes at the earliest moment something may be due, and the
// connection asks again then. A busy connection keeps its record buffers (an
// idle one frees them, SSL_MODE_RELEASE_BUFFERS, at the price of allocating
// them again for every record it reads or writes).
#pragma once

#include <chrono>

namespace chainlab::hub {

class Liveness {
public:
  using Clock = std::chrono::steady_clock;
  // Two reads this close together make a connection busy; this long
  // without one makes it idle again.
  static constexpr Clock::duration kBusyWindow = std::chrono::seconds(2);

  enum class Due { nothing, release_buffers, expire };

  // heard: bytes arrived at |now|. True when the connection has just become
  // busy (keep its buffers from now on).
  bool heard(Clock::time_point now);
  // The connection ends at |when| unless the deadline moves again.
  void set_deadline(Clock::time_point when) { deadline_ = when; }
  // next_wake: when the timer must wake next.
  Clock::time_point next_wake() const;
  // due: what the connection must do at a wake at |now|.
  Due due(Clock::time_point now);
  bool buffers_kept() const { return busy_; }

private:
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point last_heard_ = Clock::time_point::min();
  bool busy_ = false;
};

} // namespace chainlab::hub
