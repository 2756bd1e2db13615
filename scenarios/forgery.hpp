// scenarios/forgery.hpp: the attacker's own tool. It writes a certificate
// for a device's key file, signed with another actor's key file, outside
// any issuance policy (or self-signed, for thumbprint registration).
#pragma once

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

} // namespace chainlab::scenario
