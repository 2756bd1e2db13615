// core/clock.hpp: the one source of "now". Scenarios move an actor's clock
// forward with CHAINLAB_CLOCK_OFFSET_SECONDS to play expiry attacks.
#pragma once

#include <chrono>

namespace chainlab {

using TimePoint = std::chrono::system_clock::time_point;

// now is the system time plus the process's clock offset, if any.
TimePoint now();

} // namespace chainlab
