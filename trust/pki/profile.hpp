// pki/profile.hpp: the kinds of certificate a chainlab CA issues.
#pragma once

#include <optional>
#include <string_view>

namespace chainlab::pki {

enum class Profile {
  root_ca,        // self-signed trust anchor
  subordinate_ca, // Factory-Y, Technician-Z: CA:TRUE with a pathLen
  device,         // CA:FALSE, digitalSignature, clientAuth, CN = device ID
  tls_server,     // a CA's own EST (and later hub) server certificate
  verification,   // proof-of-possession for a hub: CN = verification code
};

std::string_view to_string(Profile profile);
std::optional<Profile> profile_from_string(std::string_view name);

} // namespace chainlab::pki
