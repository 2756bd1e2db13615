#include "ca/certificate_authority.hpp"

#include "core/clock.hpp"
#include "pki/inspect.hpp"

namespace chainlab::ca {
namespace {

std::string short_hex(const std::string &hex) { return hex.substr(0, 16) + "…"; }

std::uint64_t milliseconds(TimePoint when) {
  return std::uint64_t(
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count());
}

} // namespace

bool record_issued(registry::IssuanceLog &log, X509 *issued, const std::string &profile,
                   const std::string &requester, TimePoint when,
                   const std::optional<std::string> &secret_hash, EVP_PKEY *ca_key) {
  registry::IssuedRecord record{pki::serial_hex(issued),
                                pki::subject_text(issued),
                                profile,
                                pki::key_fingerprint(X509_get0_pubkey(issued)),
                                requester,
                                when,
                                pki::not_before(issued),
                                pki::not_after(issued),
                                pki::to_pem(issued)};
  transparency::LogEntry entry{milliseconds(when), profile, pki::to_der(issued)};
  if (!log.record_issuance(record, entry, secret_hash, when))
    return false;
  log.tree().publish(ca_key, milliseconds(when));
  return true;
}

CertificateAuthority::CertificateAuthority(pki::CertList chain,
                                           ossl::Ptr<EVP_PKEY> key,
                                           registry::IssuanceLog &log,
                                           Narrator &narrator, Lifetimes lifetimes)
    : chain_(std::move(chain)), key_(std::move(key)), log_(log),
      narrator_(narrator), lifetimes_(lifetimes) {}

pki::CertList CertificateAuthority::ca_certificates() {
  narrator_.say("hands out its CA certificates (cacerts): " +
                std::to_string(chain_.size()) + " certificate(s), own first");
  return pki::clone(chain_);
}

Error CertificateAuthority::refuse(Error error) {
  narrator_.refuse(std::string(to_string(error.reason())), error.detail());
  return error;
}

Result<ossl::Ptr<X509>>
CertificateAuthority::simple_enroll(X509_REQ *csr, const std::string &secret,
                                    const est::Requester &requester) {
  std::string subject = pki::subject_text(X509_REQ_get_subject_name(csr));
  narrator_.say("<- " + requester.address + ": simpleenroll for " + subject);
  if (secret.empty())
    return refuse(Error(Reason::secret_missing,
                        "simpleenroll needs HTTP Basic with an enrolment secret "
                        "issued by this CA's operator"));
  auto stored = log_.find_secret(secret);
  if (!stored)
    return refuse(Error(Reason::secret_unknown,
                        "the enrolment secret presented for " + subject +
                            " was never issued by this CA"));
  TimePoint when = now();
  if (stored->used_at) {
    if (auto again = answered_before(*stored, csr))
      return std::move(*again);
    return refuse(Error(Reason::secret_used,
                        "the enrolment secret for " + stored->subject +
                            " was already used at " +
                            pki::format_time(*stored->used_at) +
                            "; secrets are single-use"));
  }
  if (stored->expires_at && when >= *stored->expires_at)
    return refuse(Error(Reason::secret_expired,
                        "the enrolment secret for " + stored->subject +
                            " expired at " + pki::format_time(*stored->expires_at)));
  narrator_.check("enrolment secret is valid, unused and bound to " +
                  stored->subject + " (profile " + stored->profile + ")");

  auto profile = pki::profile_from_string(stored->profile).value_or(pki::Profile::device);
  auto authorised = pki::parse_subject(stored->subject);
  pki::IssuanceRequest request{csr, profile, authorised.get(), stored->path_len,
                               profile == pki::Profile::subordinate_ca
                                   ? lifetimes_.subordinate_ca
                                   : lifetimes_.device};
  return issue(request, stored->secret_hash,
               "secret " + stored->secret_hash.substr(0, 8) + " from " +
                   requester.address);
}

std::optional<ossl::Ptr<X509>>
CertificateAuthority::answered_before(const registry::StoredSecret &secret, X509_REQ *csr) {
  // A requester whose answer was lost asks again with the same secret and
  // the same key: it gets the certificate it was given, not secret_used.
  auto record = log_.find_by_secret(secret.secret_hash);
  EVP_PKEY *key = X509_REQ_get0_pubkey(csr);
  if (!record || !key || X509_REQ_verify(csr, key) != 1 ||
      pki::key_fingerprint(key) != record->key_fingerprint)
    return std::nullopt;
  narrator_.check("the enrolment secret for " + secret.subject + " was used at " +
                  pki::format_time(*secret.used_at) + " by this same key: a retry of an "
                  "answered request, so the certificate issued then (serial " +
                  short_hex(record->serial) + ") is sent again; nothing new is issued");
  return pki::parse_certificate(record->certificate_pem, "issued serial " + record->serial);
}

Result<ossl::Ptr<X509>>
CertificateAuthority::simple_reenroll(X509_REQ *csr,
                                      const est::Requester &requester) {
  std::string subject = pki::subject_text(X509_REQ_get_subject_name(csr));
  narrator_.say("<- " + requester.address + ": simplereenroll for " + subject);
  if (!requester.client_cert)
    return refuse(Error(Reason::client_cert_required,
                        "simplereenroll needs the current certificate as the "
                        "TLS client certificate"));
  X509 *current = requester.client_cert;
  std::string current_subject = pki::subject_text(current);
  if (!requester.client_cert_error.empty())
    return refuse(Error(Reason::client_cert_unknown,
                        "client certificate " + current_subject +
                            " does not verify against this CA: " +
                            requester.client_cert_error));
  auto record = log_.find_by_serial(pki::serial_hex(current));
  if (!record || record->certificate_pem != pki::to_pem(current))
    return refuse(Error(Reason::client_cert_unknown,
                        "client certificate " + current_subject + " (serial " +
                            pki::serial_hex(current) +
                            ") is not one this CA issued"));
  narrator_.check("current certificate " + current_subject + " (serial " +
                  short_hex(record->serial) + ") was issued here and is valid");
  auto profile = pki::profile_from_string(record->profile).value_or(pki::Profile::device);
  pki::IssuanceRequest request{csr, profile, X509_get_subject_name(current),
                               pki::path_len(current),
                               profile == pki::Profile::subordinate_ca
                                   ? lifetimes_.subordinate_ca
                                   : lifetimes_.device};
  return issue(request, std::nullopt,
               "renewal of serial " + record->serial + " from " + requester.address);
}

void CertificateAuthority::narrate_checks(const pki::IssuanceRequest &request,
                                          const pki::CertificatePlan &plan) {
  EVP_PKEY *key = plan.public_key.get();
  narrator_.check("CSR self-signature verifies: the requester holds the " +
                  pki::describe_key(key) + " key " +
                  short_hex(pki::key_fingerprint(key)));
  narrator_.check("subject " + pki::subject_text(plan.subject.get()) +
                  " is the one authorised");
  narrator_.check("requested extensions fit the " +
                  std::string(pki::to_string(request.profile)) + " policy");
  if (plan.profile == pki::Profile::subordinate_ca) {
    auto issuer_limit = pki::path_len(certificate());
    narrator_.check("CA:TRUE with pathLen " + std::to_string(plan.path_len.value_or(0)) +
                    " fits under this CA (pathLen " +
                    (issuer_limit ? std::to_string(*issuer_limit) : "unlimited") + ")");
  }
  narrator_.check("validity " + pki::format_time(plan.not_before) + " .. " +
                  pki::format_time(plan.not_after) + " lies inside this CA's own");
}

Result<ossl::Ptr<X509>>
CertificateAuthority::issue(const pki::IssuanceRequest &request,
                            const std::optional<std::string> &secret_hash,
                            const std::string &requester) {
  TimePoint when = now();
  auto plan = pki::plan_certificate(request, certificate(), when);
  if (!plan)
    return refuse(plan.error());
  narrate_checks(request, plan.value());
  ossl::Ptr<X509> issued = pki::sign_certificate(plan.value(), certificate(), key_.get());
  std::string profile(pki::to_string(request.profile));
  if (!record_issued(log_, issued.get(), profile, requester, when, secret_hash, key_.get()))
    return refuse(Error(Reason::secret_used,
                        "the enrolment secret was used by another request "
                        "while this one was being checked"));
  narrator_.say("issued " + pki::subject_text(issued.get()) + " (" + profile + ", serial " +
                short_hex(pki::serial_hex(issued.get())) + "), recorded it and appended it to "
                "its transparency log (tree size " + std::to_string(log_.tree().size()) + ")");
  return issued;
}

ossl::Ptr<X509> CertificateAuthority::issue_tls_server_certificate(EVP_PKEY *key) {
  TimePoint when = now();
  auto window = pki::decide_validity(lifetimes_.tls_server, certificate(), when);
  if (!window)
    throw window.error();
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject("CN=127.0.0.1,O=" + narrator_.actor() + " EST");
  plan.public_key = ossl::up_ref(key);
  plan.profile = pki::Profile::tls_server;
  plan.not_before = window.value().not_before;
  plan.not_after = window.value().not_after;
  ossl::Ptr<X509> issued = pki::sign_certificate(plan, certificate(), key_.get());
  record_issued(log_, issued.get(), "tls-server", "self: this CA's EST server", when,
                std::nullopt, key_.get());
  return issued;
}

} // namespace chainlab::ca
