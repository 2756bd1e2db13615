// scenarios/conformance/profile.hpp: a device maker's description of their
// device under test: how to start it (a shell command template) and what it
// claims to do. Loading is strict: an unknown field, capability or
// placeholder is refused with its JSON pointer.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace chainlab::conformance {

inline constexpr std::string_view kCapabilities[] = {"est-enrolment", "telemetry", "c2d",
                                                    "twin",          "methods",   "reconnect"};
inline constexpr std::string_view kPlaceholders[] = {
    "hub_host", "hub_port", "device_id",  "cert",       "chain",           "key",
    "hub_ca",   "est_url",  "est_secret", "est_fingerprint", "state_dir"};

struct DeviceProfile {
  std::string file;
  std::string name;
  std::string description;
  std::string command; // template: {placeholder}, {{ and }} for literal braces
  std::set<std::string> capabilities;
  std::string key = "pem"; // pem or pkcs11: what {key} is
  bool claims(std::string_view capability) const {
    return capabilities.count(std::string(capability)) > 0;
  }
};

// parse_profile reads a profile; Error(config_invalid) names |file| and
// the JSON pointer of what is wrong.
DeviceProfile parse_profile(std::string_view text, const std::string &file);
DeviceProfile load_profile(const std::string &file);

// expand_command fills the template. Every value is shell-quoted, so a
// device ID or path cannot inject commands.
std::string expand_command(const std::string &command_template,
                           const std::map<std::string, std::string> &values);

} // namespace chainlab::conformance
