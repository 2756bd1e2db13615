// support/test_pki.hpp: a test PKI built through chainlab's own library at
// test time (nothing pre-generated, so nothing in the repo can expire), and
// private temporary directories.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hsm/file_key_store.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/encoding.hpp"

namespace chainlab::testing {

// TempDir is a private directory, removed with everything in it.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

struct TestCa {
  ossl::Ptr<X509> certificate;
  ossl::Ptr<EVP_PKEY> key;
};

using std::chrono::hours;
using Clock = std::chrono::system_clock;

ossl::Ptr<EVP_PKEY> make_key(hsm::KeyType type = hsm::KeyType::ec_p256);
// make_root: a self-signed root CA valid [now + from, now + until].
TestCa make_root(const std::string &subject, std::optional<long> path_len = std::nullopt,
                 hours from = hours(-1), hours until = hours(24 * 365));
// make_sub_ca: a subordinate CA signed by |issuer|.
TestCa make_sub_ca(const TestCa &issuer, const std::string &subject,
                   std::optional<long> path_len, hours from = hours(-1),
                   hours until = hours(24 * 300));

// issue_leaf: an end-entity certificate for |key|, signed by |issuer|,
// valid [now + from, now + until].
ossl::Ptr<X509> issue_leaf(const TestCa &issuer, const std::string &subject, EVP_PKEY *key,
                           pki::Profile profile = pki::Profile::device, hours from = hours(-1),
                           hours until = hours(24));

// CsrSpec describes a request, including deliberately wrong ones.
struct CsrSpec {
  std::string subject = "CN=widget-001";
  std::vector<std::pair<int, std::string>> extensions; // (NID, conf value)
  bool corrupt_signature = false;
};
// make_csr signs |spec| with |key|; extensions are exactly those listed.
ossl::Ptr<X509_REQ> make_csr(EVP_PKEY *key, const CsrSpec &spec);

// put_key_off_curve makes |cert|'s public key a P-256 point that is not on
// the curve, which OpenSSL will not decode; the caller signs |cert| again.
// False if OpenSSL refused the change.
bool put_key_off_curve(X509 *cert);

} // namespace chainlab::testing
