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
  // A certificate new to the hub (any binding but same_certificate): its
  // DER, kept for auditors, and under onboarding "logged" the issuer's log
  // that must prove it holds it before the device is admitted.
  std::string certificate_der;
  std::shared_ptr<const LogRegistration> required_log;
};

// authenticate_device decides. On refusal the Error's reason is the stable
// code, and its detail names the certificate, its depth and the rule.
Result<AuthenticatedDevice> authenticate_device(const TenantSnapshot &snapshot, X509 *leaf,
                                                const pki::CertList &presented,
                                                std::chrono::system_clock::time_point now);

// judge_inclusion decides on what the issuer's log answered for a device
// whose CA onboards by "logged": |log_failure| is nullopt when the log
// proved the certificate included. Refuses with not_in_log when the log
// does not hold it, and log_unavailable when no verified answer was had.
std::optional<Error> judge_inclusion(const std::string &device_id,
                                     const std::string &issuer_subject,
                                     const LogRegistration &log,
                                     const std::optional<Error> &log_failure);

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
