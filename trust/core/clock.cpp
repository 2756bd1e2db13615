#include "core/clock.hpp"

#include <cstdlib>
#include <string>

namespace chainlab {

TimePoint now() {
  static const long offset = [] {
    const char *text = std::getenv("CHAINLAB_CLOCK_OFFSET_SECONDS");
    return text ? std::stol(text) : 0L;
  }();
  return std::chrono::system_clock::now() + std::chrono::seconds(offset);
}

} // namespace chainlab
