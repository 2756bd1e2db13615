#include "pki/profile.hpp"

#include <array>
#include <utility>

namespace chainlab::pki {
namespace {
constexpr std::array kNames = {
    std::pair{Profile::root_ca, "root-ca"},
    std::pair{Profile::subordinate_ca, "subordinate-ca"},
    std::pair{Profile::device, "device"},
    std::pair{Profile::tls_server, "tls-server"},
    std::pair{Profile::verification, "verification"},
};
} // namespace

std::string_view to_string(Profile profile) {
  for (const auto &[value, name] : kNames)
    if (value == profile)
      return name;
  return "device";
}

std::optional<Profile> profile_from_string(std::string_view name) {
  for (const auto &[value, text] : kNames)
    if (name == text)
      return value;
  return std::nullopt;
}

} // namespace chainlab::pki
