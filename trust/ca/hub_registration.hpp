// ca/hub_registration.hpp: a CA owner registering its CA with a hub: upload
// the certificate, ask for a verification code, and answer it with a
// certificate whose CN is the code, signed by the CA key in its token.
#pragma once

#include <cstdint>
#include <string>

#include "core/narrator.hpp"

namespace chainlab::ca {

struct HubEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string pinned_fingerprint; // the hub's service CA
  std::string hub;                // tenant name
  std::string token;              // its bearer token
};

// register_with_hub runs the whole flow and throws the hub's Error (with
// its reason code) if any step is refused.
void register_with_hub(const std::string &state_dir, const HubEndpoint &endpoint,
                       const std::string &certificate_name, Narrator &narrator);

} // namespace chainlab::ca
