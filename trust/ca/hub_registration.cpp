#include "ca/hub_registration.hpp"

#include <nlohmann/json.hpp>

#include "actor/state_dir.hpp"
#include "ca/certificate_authority.hpp"
#include "ca/hub_api.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "hsm/file_key_store.hpp"
#include "net/https_client.hpp"
#include "net/tls_context.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/inspect.hpp"
#include "pki/policy.hpp"
#include "registry/issuance_log.hpp"

namespace chainlab::ca {
namespace {

using nlohmann::json;

// sign_verification_certificate: CN = code, a throwaway subject key, signed
// by the CA key (which never leaves its token), valid for an hour at most.
ossl::Ptr<X509> sign_verification_certificate(X509 *ca, EVP_PKEY *ca_key,
                                              const std::string &code) {
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject("CN=" + code);
  plan.public_key = hsm::generate_software_key(hsm::KeyType::ec_p256);
  plan.profile = pki::Profile::verification;
  auto window = pki::decide_validity(std::chrono::hours(1), ca, now());
  if (!window)
    throw window.error();
  plan.not_before = window.value().not_before;
  plan.not_after = window.value().not_after;
  return pki::sign_certificate(plan, ca, ca_key);
}

// already_uploaded: the hub's record of |name| if it holds this very
// certificate under it; null if the name is free. A different certificate
// under the name is left for the upload to refuse, naming it.
json already_uploaded(HubApi &api, const std::string &name, const std::string &thumbprint) {
  try {
    json found = api.call("GET", "/certificates/" + percent_encode(name));
    if (pki::normalise_fingerprint(found.value("thumbprint", "")) ==
        pki::normalise_fingerprint(thumbprint))
      return found;
  } catch (const Error &error) {
    if (error.reason() != Reason::not_found)
      throw;
  }
  return nullptr;
}

} // namespace

void register_with_hub(const std::string &state_dir, const HubEndpoint &endpoint,
                       const std::string &certificate_name, Narrator &narrator) {
  actor::StateDir state(state_dir);
  auto config = state.load_config();
  auto ca = state.certificate();
  HubApi api(endpoint);
  std::string where = "hub \"" + endpoint.hub + "\" at https://" + endpoint.host + ":" +
                      std::to_string(endpoint.port);

  // An earlier run may have been interrupted after the upload, or even
  // after the proof: pick up where it stopped instead of failing with 409.
  json existing = already_uploaded(api, certificate_name, pki::sha256_fingerprint(ca.get()));
  if (existing.is_object() && existing.value("status", "") == "Verified") {
    narrator.check(where + " already holds " + config.subject + " as \"" + certificate_name +
                   "\", Verified: nothing to do");
    return;
  }
  if (existing.is_object()) {
    narrator.check(where + " already holds " + config.subject + " as \"" + certificate_name +
                   "\" (an earlier run stopped before proving possession): proving it now");
  } else {
    narrator.say("-> " + where + ": upload CA certificate " + config.subject + " as \"" +
                 certificate_name + "\" (certificate only; the key stays in its token)");
    json uploaded = api.call("PUT", "/certificates/" + percent_encode(certificate_name),
                             {{"certificate", pki::to_pem(ca.get())}});
    narrator.check("hub accepted the upload: status " + uploaded.value("status", "?") +
                   ", thumbprint " + uploaded.value("thumbprint", "?").substr(0, 23) + "…");
  }

  narrator.say("-> hub: generate a verification code (proof-of-possession challenge)");
  json challenge = api.call("POST", "/certificates/" + percent_encode(certificate_name) + "/generateVerificationCode");
  std::string code = challenge.value("verificationCode", "");
  narrator.detail("code " + code + ", expires " + challenge.value("verificationCodeExpires", "?"));

  auto store = state.open_key_store(config, false);
  auto ca_key = store->load_key(actor::kIdentityKeyLabel);
  auto proof = sign_verification_certificate(ca.get(), ca_key.get(), code);
  registry::IssuanceLog log(state.path("issuance.db"));
  record_issued(log, proof.get(), "verification", "self: proof of possession for " + where,
                now(), std::nullopt, ca_key.get());
  narrator.say("signed a verification certificate CN=" + code + " with the CA key inside " +
               store->describe());

  narrator.say("-> hub: verify with that certificate");
  json verified = api.call("POST", "/certificates/" + percent_encode(certificate_name) + "/verify",
                           {{"certificate", pki::to_pem(proof.get())}});
  narrator.check("hub checked CN = its code and the CA's signature: status " +
                 verified.value("status", "?"));
}

} // namespace chainlab::ca
