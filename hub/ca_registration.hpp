// hub/ca_registration.hpp: registering a CA with a hub, as Azure IoT Hub
// does it: upload the certificate (never a key), get a random single-use
// verification code, and prove possession of the CA key by returning a
// certificate with CN = that code, signed by the CA. Every refusal is an
// event with its reason code.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/narrator.hpp"
#include "registry/hub_registry.hpp"

namespace chainlab::hub {

struct RegistrationPolicy {
  std::chrono::seconds code_lifetime{std::chrono::hours(1)};
};

// contains_private_key: PEM private-key blocks, DER private keys (also
// after a DER certificate) and PKCS#12 bundles all count.
bool contains_private_key(std::string_view bytes);

class CaRegistration {
public:
  CaRegistration(registry::HubRegistry &registry, Narrator &narrator,
                 RegistrationPolicy policy = {});

  // upload stores a new Unverified CA named |name|.
  Result<registry::CaRecord> upload(const std::string &hub, const std::string &name,
                                    std::string_view certificate);
  // generate_verification_code issues a fresh code; the previous one is void.
  Result<registry::CaRecord> generate_verification_code(const std::string &hub,
                                                        const std::string &name);
  // verify makes the CA Verified if |certificate| proves possession.
  Result<registry::CaRecord> verify(const std::string &hub, const std::string &name,
                                    std::string_view certificate);
  Result<registry::CaRecord> set_enabled(const std::string &hub, const std::string &name,
                                         bool enabled);
  Result<bool> remove(const std::string &hub, const std::string &name);
  // set_onboarding: "first-connection", "pre-registered", "approval" or
  // "logged". "logged" needs |logs|: a JSON array of 1 to 16
  // {"url": "https://HOST:PORT", "certificate": PEM of the CA whose log it is}.
  Result<registry::CaRecord> set_onboarding(const std::string &hub, const std::string &name,
                                            const std::string &policy,
                                            const nlohmann::json &logs = nullptr);
  // set_certificate_change: "any", "same-issuer" or "pinned" (see CaRecord).
  Result<registry::CaRecord> set_certificate_change(const std::string &hub,
                                                    const std::string &name,
                                                    const std::string &policy);

private:
  Result<registry::CaRecord> find(const std::string &hub, const std::string &name);
  Error refuse(const std::string &hub, const std::string &subject, Error error);
  registry::EventRecord event(const std::string &hub, const std::string &kind,
                              const std::string &subject, const std::string &detail) const;
  void update_and_log(const registry::CaRecord &record, const std::string &kind,
                      const std::string &subject, const std::string &detail);

  registry::HubRegistry &registry_;
  Narrator &narrator_;
  RegistrationPolicy policy_;
  // Each operation reads, checks and writes a CA record: one at a time.
  std::mutex mutex_;
};

} // namespace chainlab::hub
