// scenarios/conformance/supply_chain.hpp: what the suite provisions before
// it meets the device: the real supply chain (Company-X, Factory-Y and
// Technician-Z, each its own process with its key in its own token), the
// technician's EST server in-process with a recorder in front, and the
// suite's hub PKI: the hub CA and the good and hostile hub certificates.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <ostream>
#include <string>
#include <vector>

#include "ca/operations.hpp"
#include "core/narrator.hpp"
#include "pki/encoding.hpp"
#include "scenarios/process.hpp"

namespace chainlab::conformance {

// EnrolmentRecord: one simpleenroll as the EST server saw it.
struct EnrolmentRecord {
  std::string secret;
  std::string csr_pem;
  std::string issued_pem; // empty when refused
  std::string refusal;    // "weak_key: ..."
};

// RecordingAuthority stands in front of the technician CA and keeps what
// each enrolment sent. Issuance decisions stay the CA's own.
class RecordingAuthority final : public est::Authority {
public:
  explicit RecordingAuthority(est::Authority &ca) : ca_(ca) {}
  pki::CertList ca_certificates() override { return ca_.ca_certificates(); }
  Result<ossl::Ptr<X509>> simple_enroll(X509_REQ *csr, const std::string &secret,
                                        const est::Requester &requester) override;
  Result<ossl::Ptr<X509>> simple_reenroll(X509_REQ *csr, const est::Requester &requester) override {
    return ca_.simple_reenroll(csr, requester);
  }
  std::vector<EnrolmentRecord> records() const;

private:
  est::Authority &ca_;
  mutable std::mutex mutex_;
  std::vector<EnrolmentRecord> records_;
};

struct ServerCredentials {
  ossl::Ptr<X509> certificate;
  pki::CertList chain;
  ossl::Ptr<EVP_PKEY> key;
};

// HubPki: the suite's hub CA and its certificates, made in memory.
struct HubPki {
  ossl::Ptr<X509> hub_ca;
  ossl::Ptr<EVP_PKEY> hub_ca_key;
  ServerCredentials good, wrong_host, expired, untrusted, impostor_est;
};
HubPki make_hub_pki(const std::string &hub_host);

struct TokenIdentity {
  std::string key_uri;      // pkcs11:token=...;object=...;type=private?pin-value=...
  std::string softhsm_conf; // the token's SOFTHSM2_CONF
};

class SupplyChain {
public:
  // Starts Company-X and Factory-Y as servers, enrols Technician-Z, and
  // serves its EST in-process. Throws Error naming the step that failed.
  SupplyChain(const std::string &work_dir, const std::string &bin_dir, std::ostream &out);
  ~SupplyChain();

  X509 *root() const { return root_.get(); }
  std::string technician_dir() const { return work_dir_ + "/technician-z"; }
  std::uint16_t est_port() const;
  std::string est_fingerprint() const;
  std::string issue_secret(const std::string &device_id);
  // issue_pem_identity makes a P-256 key file and has the technician issue
  // its certificate through its policy: {cert}, {chain} and {key} files.
  void issue_pem_identity(const std::string &device_id, const std::string &directory);
  // issue_token_identity has chainlab's device tool make a P-256 key in a
  // SoftHSM token of its own (sensitive, non-extractable) and enrol it at
  // the technician: {cert} and {chain} files, and the key's RFC 7512 URI
  // with its PIN, usable by any PKCS#11 client given the token's config.
  TokenIdentity issue_token_identity(const std::string &device_id, const std::string &directory);
  std::vector<EnrolmentRecord> enrolments() const { return recorder_ ? recorder_->records() : std::vector<EnrolmentRecord>{}; }

private:
  // run runs an actor command; its output is narrated unless it is a value.
  std::string run(const std::string &role, const std::vector<std::string> &args, bool narrate = true);
  void start_ca(const std::string &role, const std::string &name, const std::string &parent,
                const std::string &path_len);

  std::string work_dir_, bin_dir_;
  std::ostream &out_;
  Narrator narrator_;
  std::map<std::string, std::unique_ptr<scenario::BackgroundProcess>> servers_;
  std::map<std::string, std::pair<std::uint16_t, std::string>> endpoints_; // port, fingerprint
  ossl::Ptr<X509> root_;
  std::unique_ptr<RecordingAuthority> recorder_;
  std::unique_ptr<ca::EstService> est_;
  std::thread est_thread_;
};

} // namespace chainlab::conformance
