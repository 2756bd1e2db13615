// hub/authenticate.hpp: the one decision whether a device is trusted.
// Pure: every input is in its arguments (a tenant snapshot, the presented
// leaf and chain, the time), and it neither opens sockets nor writes to the
// registry. The gateway only transports, and the registry only stores what
// this decided.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "hub/tenant_snapshot.hpp"

namespace chainlab::hub {

// Binding says how this connection relates to the device's registration.
enum class Binding {
  new_device,         // first connection under a CA: register it
  same_certificate,   // the registered certificate again
  bind_pre_registered, // an operator created the identity; this binds it
  certificate_change, // a known device with a new certificate its CA's policy accepts
};

struct AuthenticatedDevice {
  // The device as the certificate binds it: ID, CA, issuer (subject and
  // key), chain (subjects and keys), thumbprint; approved as onboarding says.
  registry::DeviceRecord device;
  std::string authentication = "ca"; // or "thumbprint"
  std::string onboarding = "first-connection";
  Binding binding = Binding::new_device;
  // For certificate_change: what was registered before.
  std::string previous_thumbprint;
  std::string previous_chain;
};

// authenticate_device decides. On refusal the Error's reason is the stable
// code, and its detail names the certificate, its depth and the rule.
Result<AuthenticatedDevice> authenticate_device(const TenantSnapshot &snapshot, X509 *leaf,
                                                const pki::CertList &presented,
                                                std::chrono::system_clock::time_point now);

// still_admitted re-decides for a device that is connected, after an
// operator's change: nullopt if it may stay, else why it must go (device
// deleted or disabled, its CA disabled or deleted, an intermediate above it
// disabled, or its registration now bound to another certificate).
std::optional<Error> still_admitted(const TenantSnapshot &snapshot,
                                    const registry::DeviceRecord &connected);

// issuer_withdrawn: has the trust above a CA-authenticated device gone
// (its CA disabled or deleted, or an intermediate above it disabled)?
std::optional<Error> issuer_withdrawn(const TenantSnapshot &snapshot,
                                      const registry::DeviceRecord &connected);

} // namespace chainlab::hub
