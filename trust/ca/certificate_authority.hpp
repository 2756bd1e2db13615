// ca/certificate_authority.hpp: one CA (Company-X, Factory-Y, Technician-Z,
// or a simulated public root) deciding, signing and recording issuance.
#pragma once

#include <chrono>

#include "core/narrator.hpp"
#include "est/authority.hpp"
#include "pki/policy.hpp"
#include "registry/issuance_log.hpp"

namespace chainlab::ca {

struct Lifetimes {
  std::chrono::seconds subordinate_ca{std::chrono::hours(24 * 365 * 5)};
  std::chrono::seconds device{std::chrono::hours(24 * 365)};
  std::chrono::seconds tls_server{std::chrono::hours(24 * 30)};
};

// record_issued stores |issued| in |log| with its transparency-log entry
// (its DER, the time and the profile) in one transaction, then signs a new
// tree head with |ca_key|. False, storing nothing, if |secret_hash| was used
// meanwhile.
bool record_issued(registry::IssuanceLog &log, X509 *issued, const std::string &profile,
                   const std::string &requester, std::chrono::system_clock::time_point when,
                   const std::optional<std::string> &secret_hash, EVP_PKEY *ca_key);

class CertificateAuthority final : public est::Authority {
public:
  // |chain| is this CA's certificate first, then up to the root. |key|
  // signs for it (usually a token handle). |log| and |narrator| are borrowed.
  CertificateAuthority(pki::CertList chain, ossl::Ptr<EVP_PKEY> key,
                       registry::IssuanceLog &log, Narrator &narrator,
                       Lifetimes lifetimes = {});

  pki::CertList ca_certificates() override;
  Result<ossl::Ptr<X509>> simple_enroll(X509_REQ *csr, const std::string &secret,
                                        const est::Requester &requester) override;
  Result<ossl::Ptr<X509>> simple_reenroll(X509_REQ *csr,
                                          const est::Requester &requester) override;

  // issue_tls_server_certificate gives this CA's own EST server a
  // certificate for |key| (recorded like any other issuance).
  ossl::Ptr<X509> issue_tls_server_certificate(EVP_PKEY *key);

  X509 *certificate() const { return chain_.front().get(); }
  EVP_PKEY *key() const { return key_.get(); }

private:
  Result<ossl::Ptr<X509>> issue(const pki::IssuanceRequest &request,
                                const std::optional<std::string> &secret_hash,
                                const std::string &requester);
  // answered_before: the certificate already issued on |secret| to the
  // same key as |csr| (a retry whose answer was lost), if any.
  std::optional<ossl::Ptr<X509>> answered_before(const registry::StoredSecret &secret,
                                                 X509_REQ *csr);
  void narrate_checks(const pki::IssuanceRequest &request,
                      const pki::CertificatePlan &plan);
  Error refuse(Error error);

  pki::CertList chain_;
  ossl::Ptr<EVP_PKEY> key_;
  registry::IssuanceLog &log_;
  Narrator &narrator_;
  Lifetimes lifetimes_;
};

} // namespace chainlab::ca
