#include "hub/ca_registration.hpp"

#include "core/secrets.hpp"

#include "core/clock.hpp"
#include "core/random.hpp"
#include "ossl/errors.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "transparency/log_client.hpp"

namespace chainlab::hub {
namespace {

// first_inner_tag reads the DER header of the SEQUENCE at |data| and of its
// first element, returning that element's tag (or -1 if |data| does not
// start with a SEQUENCE), without decoding anything further.
int first_inner_tag(const unsigned char *data, long size) {
  const unsigned char *cursor = data;
  long length = 0;
  int tag = 0, tag_class = 0;
  if (ASN1_get_object(&cursor, &length, &tag, &tag_class, size) & 0x80 ||
      tag != V_ASN1_SEQUENCE || tag_class != V_ASN1_UNIVERSAL)
    return -1;
  long left = size - long(cursor - data);
  if (ASN1_get_object(&cursor, &length, &tag, &tag_class, left) & 0x80 ||
      tag_class != V_ASN1_UNIVERSAL)
    return -1;
  return tag;
}

bool der_is_private_key(const unsigned char *data, long size) {
  // Private keys (PKCS#1, SEC 1, PKCS#8) and PKCS#12 bundles start with a
  // version INTEGER, encrypted PKCS#8 with an AlgorithmIdentifier: check the
  // shape first, as OpenSSL's key decoders are slow to say no.
  int tag = first_inner_tag(data, size);
  const unsigned char *cursor = data;
  if (tag == V_ASN1_SEQUENCE) {
    ossl::Ptr<X509_SIG> encrypted_pkcs8(d2i_X509_SIG(nullptr, &cursor, size));
    return encrypted_pkcs8 != nullptr;
  }
  if (tag != V_ASN1_INTEGER)
    return false;
  ossl::Ptr<EVP_PKEY> key(d2i_AutoPrivateKey(nullptr, &cursor, size));
  if (key)
    return true;
  cursor = data;
  ossl::Ptr<PKCS12> bundle(d2i_PKCS12(nullptr, &cursor, size));
  return bundle != nullptr;
}

} // namespace

bool contains_private_key(std::string_view bytes) {
  if (bytes.find("PRIVATE KEY-----") != std::string_view::npos)
    return true;
  if (bytes.find("-----BEGIN") != std::string_view::npos)
    return false; // PEM without a key block
  const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
  long size = long(bytes.size());
  if (der_is_private_key(data, size))
    return true;
  // A DER certificate with a key appended after it.
  const unsigned char *cursor = data;
  ossl::Ptr<X509> cert(d2i_X509(nullptr, &cursor, size));
  bool found = cert && cursor < data + size && der_is_private_key(cursor, data + size - cursor);
  ossl::drain_errors();
  return found;
}

CaRegistration::CaRegistration(registry::HubRegistry &registry, Narrator &narrator,
                               RegistrationPolicy policy)
    : registry_(registry), narrator_(narrator), policy_(policy) {}

registry::EventRecord CaRegistration::event(const std::string &hub, const std::string &kind,
                                           const std::string &subject,
                                           const std::string &detail) const {
  return {0, hub, now(), kind, "", subject, detail};
}

void CaRegistration::update_and_log(const registry::CaRecord &record, const std::string &kind,
                                    const std::string &subject, const std::string &detail) {
  // The change and its event are one transaction: a crash keeps both or neither.
  auto changed = event(record.hub, kind, subject, detail);
  registry_.update_ca(record, changed);
  narrator_.say("[" + record.hub + "] " + detail);
}

Error CaRegistration::refuse(const std::string &hub, const std::string &subject, Error error) {
  registry_.add_event({0, hub, now(), "refused", std::string(to_string(error.reason())),
                       subject, error.detail()});
  narrator_.refuse(std::string(to_string(error.reason())), "[" + hub + "] " + error.detail());
  return error;
}

Result<registry::CaRecord> CaRegistration::find(const std::string &hub,
                                                const std::string &name) {
  auto record = registry_.find_ca(hub, name);
  if (!record)
    return Error(Reason::not_found, "hub " + hub + " has no CA certificate named \"" + name + "\"");
  return *record;
}

Result<registry::CaRecord> CaRegistration::upload(const std::string &hub,
                                                  const std::string &name,
                                                  std::string_view certificate) {
  std::lock_guard lock(mutex_);
  // Checked before anything else, and the bytes go nowhere: neither stored
  // nor logged.
  if (contains_private_key(certificate))
    return refuse(hub, name,
                  Error(Reason::private_key_in_upload,
                        "the upload \"" + name + "\" contains a private key; a CA's key must "
                        "never leave its owner, so nothing was stored"));
  ossl::Ptr<X509> cert;
  try {
    cert = pki::parse_certificate(certificate, "upload \"" + name + "\"");
  } catch (const Error &error) {
    return refuse(hub, name, error);
  }
  std::string subject = pki::subject_text(cert.get());
  if (!pki::is_ca(cert.get()) ||
      (X509_get_extension_flags(cert.get()) & EXFLAG_KUSAGE &&
       !(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN)))
    return refuse(hub, subject,
                  Error(Reason::not_a_ca, "certificate " + subject +
                                              " is not a CA (needs basicConstraints CA:TRUE "
                                              "and keyCertSign)"));
  TimePoint when = now();
  if (pki::not_after(cert.get()) <= when)
    return refuse(hub, subject,
                  Error(Reason::cert_expired, "CA certificate " + subject + " expired at " +
                                                  pki::format_time(pki::not_after(cert.get()))));
  std::string thumbprint = pki::sha256_fingerprint(cert.get());
  if (auto existing = registry_.find_ca_by_thumbprint(hub, thumbprint))
    return refuse(hub, subject,
                  Error(Reason::duplicate_certificate,
                        "CA certificate " + subject + " is already registered as \"" +
                            existing->name + "\""));
  if (registry_.find_ca(hub, name))
    return refuse(hub, subject, Error(Reason::duplicate_certificate,
                                      "the name \"" + name + "\" is already in use"));
  registry::CaRecord record;
  record.hub = hub;
  record.name = name;
  record.certificate_pem = pki::to_pem(cert.get());
  record.subject = subject;
  record.thumbprint = thumbprint;
  record.not_after = pki::not_after(cert.get());
  record.created_at = when;
  auto uploaded = event(hub, "ca_uploaded", subject,
                        "uploaded CA " + subject + " as \"" + name +
                            "\": Unverified until its owner proves possession of the key");
  registry_.add_ca(record, uploaded);
  narrator_.say("[" + hub + "] " + uploaded.detail);
  return record;
}

Result<registry::CaRecord>
CaRegistration::generate_verification_code(const std::string &hub, const std::string &name) {
  std::lock_guard lock(mutex_);
  auto found = find(hub, name);
  if (!found)
    return refuse(hub, name, found.error());
  registry::CaRecord record = found.value();
  record.verification_code = random_hex(20, true); // 160 bits
  record.code_expires_at = now() + policy_.code_lifetime;
  record.code_used = false;
  update_and_log(record, "verification_code_issued", record.subject,
         "issued a verification code for CA " + record.subject +
             " (single use, expires " + pki::format_time(*record.code_expires_at) + ")");
  return record;
}

Result<registry::CaRecord> CaRegistration::verify(const std::string &hub,
                                                  const std::string &name,
                                                  std::string_view certificate) {
  std::lock_guard lock(mutex_);
  auto found = find(hub, name);
  if (!found)
    return refuse(hub, name, found.error());
  registry::CaRecord record = found.value();
  const std::string &ca_subject = record.subject;
  if (record.verification_code.empty())
    return refuse(hub, ca_subject,
                  Error(Reason::verification_code_missing,
                        "no verification code was generated for CA " + ca_subject));
  if (record.code_used)
    return refuse(hub, ca_subject,
                  Error(Reason::verification_code_used,
                        "the verification code for CA " + ca_subject +
                            " was already used; request a new one"));
  TimePoint when = now();
  if (record.code_expires_at && when >= *record.code_expires_at)
    return refuse(hub, ca_subject,
                  Error(Reason::verification_code_expired,
                        "verification code for CA " + ca_subject + " expired at " +
                            pki::format_time(*record.code_expires_at)));
  if (contains_private_key(certificate))
    return refuse(hub, ca_subject,
                  Error(Reason::private_key_in_upload,
                        "the verification upload contains a private key; nothing was stored"));
  ossl::Ptr<X509> proof;
  try {
    proof = pki::parse_certificate(certificate, "verification certificate");
  } catch (const Error &error) {
    return refuse(hub, ca_subject, error);
  }
  auto cn = pki::common_name(X509_get_subject_name(proof.get())).value_or("(none)");
  // Codes are compared in constant time and never echoed: a refusal that
  // named the current code would hand it to whoever guessed wrong.
  if (!secrets_equal(cn, record.verification_code))
    return refuse(hub, ca_subject,
                  Error(Reason::verification_code_mismatch,
                        "the verification certificate's CN is not the current verification "
                        "code for CA " + ca_subject + " (request the code again if unsure)"));
  auto ca = pki::parse_certificate(record.certificate_pem, "stored CA " + ca_subject);
  if (X509_verify(proof.get(), X509_get0_pubkey(ca.get())) != 1) {
    ossl::drain_errors();
    return refuse(hub, ca_subject,
                  Error(Reason::pop_failed,
                        "verification certificate CN=" + cn + " is not signed by the key of CA " +
                            ca_subject + ": whoever sent it does not hold that key"));
  }
  if (pki::not_before(proof.get()) > when)
    return refuse(hub, ca_subject,
                  Error(Reason::cert_not_yet_valid,
                        "verification certificate is not valid before " +
                            pki::format_time(pki::not_before(proof.get()))));
  if (pki::not_after(proof.get()) <= when)
    return refuse(hub, ca_subject,
                  Error(Reason::cert_expired, "verification certificate expired at " +
                                                  pki::format_time(pki::not_after(proof.get()))));
  record.verified = true;
  record.verified_at = when;
  record.code_used = true;
  update_and_log(record, "ca_verified", ca_subject,
         "CA " + ca_subject + " proved possession of its key: now Verified");
  return record;
}

Result<registry::CaRecord> CaRegistration::set_enabled(const std::string &hub,
                                                       const std::string &name, bool enabled) {
  std::lock_guard lock(mutex_);
  auto found = find(hub, name);
  if (!found)
    return refuse(hub, name, found.error());
  registry::CaRecord record = found.value();
  record.enabled = enabled;
  update_and_log(record, enabled ? "ca_enabled" : "ca_disabled", record.subject,
         std::string(enabled ? "enabled" : "disabled") + " CA " + record.subject);
  return record;
}

namespace {

// checked_logs validates the logs of onboarding "logged" and returns them
// as stored: [{"url", "certificate" (PEM)}], each naming a CA certificate.
Result<std::string> checked_logs(const nlohmann::json &logs) {
  auto refuse_field = [](const std::string &where, const std::string &why) {
    return Error(Reason::malformed_request, "field \"" + where + "\": " + why);
  };
  if (!logs.is_array() || logs.empty() || logs.size() > 16)
    return refuse_field("logs", "onboarding \"logged\" needs an array of 1 to 16 logs, each "
                                "{\"url\": \"https://HOST:PORT\", \"certificate\": PEM}");
  nlohmann::json stored = nlohmann::json::array();
  for (std::size_t i = 0; i < logs.size(); ++i) {
    std::string where = "logs[" + std::to_string(i) + "]";
    const auto &log = logs[i];
    if (!log.is_object() || !log.contains("url") || !log["url"].is_string() ||
        !log.contains("certificate") || !log["certificate"].is_string())
      return refuse_field(where, "expected {\"url\": string, \"certificate\": PEM}");
    auto url = transparency::parse_log_url(log["url"].get<std::string>());
    if (!url)
      return refuse_field(where + ".url", url.error().detail());
    ossl::Ptr<X509> certificate;
    try {
      certificate = pki::parse_certificate(log["certificate"].get<std::string>(),
                                           where + ".certificate");
    } catch (const Error &error) {
      return error;
    }
    if (!pki::is_ca(certificate.get()))
      return refuse_field(where + ".certificate", pki::subject_text(certificate.get()) +
                                                      " is not a CA certificate, so it keeps no "
                                                      "issuance log");
    stored.push_back({{"url", log["url"]}, {"certificate", pki::to_pem(certificate.get())}});
  }
  return stored.dump();
}

} // namespace

Result<registry::CaRecord> CaRegistration::set_onboarding(const std::string &hub,
                                                          const std::string &name,
                                                          const std::string &policy,
                                                          const nlohmann::json &logs) {
  std::lock_guard lock(mutex_);
  if (policy != "first-connection" && policy != "pre-registered" && policy != "approval" &&
      policy != "logged")
    return Error(Reason::malformed_request,
                 "field \"policy\": expected first-connection, pre-registered, approval or "
                 "logged, got \"" + policy.substr(0, 64) + "\"");
  std::optional<std::string> stored_logs;
  if (policy == "logged") {
    auto checked = checked_logs(logs);
    if (!checked)
      return checked.error();
    stored_logs = checked.value();
  }
  auto found = find(hub, name);
  if (!found)
    return refuse(hub, name, found.error());
  registry::CaRecord record = found.value();
  record.onboarding = policy;
  if (stored_logs)
    record.logs = *stored_logs;
  std::string detail = "devices under CA " + record.subject + " are now onboarded by " + policy;
  if (stored_logs)
    detail += ": a device's certificate must be in its issuer's transparency log (" +
              std::to_string(logs.size()) + " log(s) registered)";
  update_and_log(record, "ca_onboarding", record.subject, detail);
  return record;
}

Result<registry::CaRecord> CaRegistration::set_certificate_change(const std::string &hub,
                                                                  const std::string &name,
                                                                  const std::string &policy) {
  std::lock_guard lock(mutex_);
  if (policy != "any" && policy != "same-issuer" && policy != "pinned")
    return Error(Reason::malformed_request,
                 "field \"policy\": expected any, same-issuer or pinned, got \"" +
                     policy.substr(0, 64) + "\"");
  auto found = find(hub, name);
  if (!found)
    return refuse(hub, name, found.error());
  registry::CaRecord record = found.value();
  record.certificate_change = policy;
  update_and_log(record, "ca_certificate_change", record.subject,
            "known devices under CA " + record.subject + " may now change certificate: " +
                policy);
  return record;
}

Result<bool> CaRegistration::remove(const std::string &hub, const std::string &name) {
  std::lock_guard lock(mutex_);
  auto found = find(hub, name);
  if (!found)
    return refuse(hub, name, found.error());
  auto deleted = event(hub, "ca_deleted", found.value().subject,
                       "deleted CA " + found.value().subject);
  registry_.delete_ca(hub, name, deleted);
  narrator_.say("[" + hub + "] " + deleted.detail);
  return true;
}

} // namespace chainlab::hub
