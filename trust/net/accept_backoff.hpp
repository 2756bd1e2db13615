// net/accept_backoff.hpp: what an accept loop does after a failed accept.
// Out of descriptors (EMFILE, ENFILE) or kernel memory, the pending
// connection stays queued and retrying at once spins a core, starving every
// connection already open. So the loop waits, from 10 ms doubling to 1 s,
// until an accept succeeds again. Included by servers' .cpp files only.
#pragma once

#include <utility> // Boost 1.74's asio needs it before GCC 12 headers

#include <boost/asio.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace chainlab::net {

class AcceptBackoff {
public:
  explicit AcceptBackoff(boost::asio::any_io_executor executor) : timer_(std::move(executor)) {}

  // after_accept calls |again| now, or after a pause if |error| says the
  // process or system is out of resources. True when this starts a pause
  // (the moment to tell someone); false while one goes on, or none.
  template <typename Again> bool after_accept(const boost::system::error_code &error, Again again) {
    if (!exhausted(error)) {
      pause_ = {};
      again();
      return false;
    }
    bool starts = pause_ == std::chrono::milliseconds::zero();
    pause_ = starts ? kFirst : std::min(pause_ * 2, kLongest);
    timer_.expires_after(pause_);
    timer_.async_wait([again](const boost::system::error_code &waited) {
      if (!waited)
        again();
    });
    return starts;
  }

  static bool exhausted(const boost::system::error_code &error) {
    if (error.category() != boost::system::system_category())
      return false;
    int code = error.value();
    return code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM;
  }

private:
  static constexpr std::chrono::milliseconds kFirst{10}, kLongest{1000};
  boost::asio::steady_timer timer_;
  std::chrono::milliseconds pause_{0};
};

} // namespace chainlab::net
