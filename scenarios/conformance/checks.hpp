// scenarios/conformance/checks.hpp: the conformance checks, one row each:
// a stable ID, the capability a device must claim for it to apply (none:
// every device), the session whose observations judge it, what it proves
// and why it matters.
#pragma once

#include <span>
#include <string_view>

namespace chainlab::conformance {

// A session is one run of the device against one behaviour of the suite's
// hub (and EST server).
enum class SessionKind {
  main,             // a correct hub: everything a device does when all is well
  untrusted_hub,    // the hub's certificate is from a CA the device does not trust
  wrong_host,       // the hub's certificate names another host
  expired_hub,      // the hub's certificate has expired
  old_tls,          // the hub speaks only TLS 1.0 and 1.1
  impostor_est,     // the EST server is an impostor
  dropping_hub,     // the hub drops the device right after CONNACK, every time
  refusing_hub,     // the hub answers every CONNECT with CONNACK 5
};

std::string_view to_string(SessionKind kind);

struct CheckInfo {
  std::string_view id;
  std::string_view capability; // "" when every device must pass it
  SessionKind session;
  std::string_view proves;
  std::string_view why;
};

std::span<const CheckInfo> all_checks();
const CheckInfo *find_check(std::string_view id);

} // namespace chainlab::conformance
