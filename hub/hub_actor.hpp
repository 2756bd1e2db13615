// hub/hub_actor.hpp: the hub service process: its own TLS identity (a
// service CA that devices and operators pin), its tenants, and its API.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "core/narrator.hpp"
#include "hub/connection_limits.hpp"

namespace chainlab::hub {

// init_hub creates the state directory, the hub's service CA and its TLS
// server certificate (localhost, 127.0.0.1).
void init_hub(const std::string &state_dir, Narrator &narrator);
// create_tenant adds a named hub; its bearer token is written to
// <state>/hubs/<name>.token (mode 0600) and returned.
std::string create_tenant(const std::string &state_dir, const std::string &name,
                          Narrator &narrator);
struct ServeOptions {
  std::uint16_t api_port = 0; // 0 = ephemeral
  // How long a CA verification code stays usable.
  std::chrono::seconds code_lifetime{3600};
  // Events kept per hub (the oldest go first); 0 keeps them all.
  std::size_t event_retention = 0;
  // Device connections held per hub, and per peer address before they
  // authenticate (a client that never finishes its handshakes).
  ConnectionLimitSettings connections;
};
// serve_hub runs the service API until SIGINT/SIGTERM; the chosen port is
// written to <state>/api.port.
void serve_hub(const std::string &state_dir, const ServeOptions &options, Narrator &narrator);
// print_events lists |hub|'s events, and the refusals counted per reason.
void print_events(const std::string &state_dir, const std::string &hub, std::ostream &out);
// service_fingerprint is the SHA-256 fingerprint of the hub's service CA.
std::string service_fingerprint(const std::string &state_dir);

} // namespace chainlab::hub
