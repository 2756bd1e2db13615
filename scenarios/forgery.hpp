// scenarios/forgery.hpp: the attacker's own tool. It writes a certificate
// for a device's key file, signed with another actor's key file, outside
// any issuance policy (or self-signed, for thumbprint registration).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace chainlab::scenario {

struct ForgeryRequest {
  std::string device_dir;  // the device's state directory (backend file)
  std::string device_name; // becomes the CN
  std::string signer_dir;  // "" = self-signed
  nlohmann::json options;  // profile (device, tls-server), digest (sha1), key_type (rsa-1024)
};

// forge_certificate installs the forged certificate and the signer's chain
// in the device's state directory and returns a sentence saying what it made.
std::string forge_certificate(const ForgeryRequest &request);

// rewrite_log edits a CA's transparency log after the fact, as someone
// holding its files could. truncate=false changes the last byte of entry
// |index| (its certificate's signature) and leaves the signed tree heads as
// they were; truncate=true drops entries from |index| on and signs the
// shorter tree with the CA's key file (backend file). Returns what it did;
// throws Error(config_invalid) when the log has no such entry.
std::string rewrite_log(const std::string &ca_dir, bool truncate, std::int64_t index);

} // namespace chainlab::scenario
