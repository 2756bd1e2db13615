#include "core/clock.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace chainlab {

namespace {

constexpr const char *kOffsetVariable = "CHAINLAB_CLOCK_OFFSET_SECONDS";

// clock_offset reads the offset a scenario gives an actor's clock: whole
// seconds, or nothing at all (stol threw std::invalid_argument, naming
// neither the variable nor the value).
std::optional<long> clock_offset(const char *text) {
  if (!text || !*text)
    return 0L;
  std::string_view value(text);
  if (value.front() == '+')
    value.remove_prefix(1);
  long seconds = 0;
  auto [end, failed] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  // A century either way; more would overflow the clock's nanoseconds.
  constexpr long kMost = 100L * 366 * 24 * 3600;
  if (failed != std::errc() || end != value.data() + value.size() || seconds > kMost ||
      seconds < -kMost)
    return std::nullopt;
  return seconds;
}

} // namespace

TimePoint now() {
  static const std::optional<long> offset = clock_offset(std::getenv(kOffsetVariable));
  if (!offset)
    throw Error(Reason::config_invalid,
                std::string(kOffsetVariable) + "=\"" +
                    std::string(std::getenv(kOffsetVariable)).substr(0, 64) +
                    "\": expected whole seconds within a century, such as -3600 or 86400");
  return std::chrono::system_clock::now() + std::chrono::seconds(*offset);
}

} // namespace chainlab
