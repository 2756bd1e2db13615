#include "support/test_pki.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "pki/inspect.hpp"

namespace chainlab::testing {

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/chainlab-test-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ossl::Ptr<EVP_PKEY> make_key(hsm::KeyType type) { return hsm::generate_software_key(type); }

namespace {

TestCa make_ca(const TestCa *issuer, const std::string &subject,
               std::optional<long> path_len, hours from, hours until) {
  TestCa ca;
  ca.key = make_key();
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(ca.key.get());
  plan.profile = issuer ? pki::Profile::subordinate_ca : pki::Profile::root_ca;
  plan.path_len = path_len;
  plan.not_before = Clock::now() + from;
  plan.not_after = Clock::now() + until;
  ca.certificate = pki::sign_certificate(plan, issuer ? issuer->certificate.get() : nullptr,
                                         issuer ? issuer->key.get() : ca.key.get());
  return ca;
}

} // namespace

TestCa make_root(const std::string &subject, std::optional<long> path_len, hours from,
                 hours until) {
  return make_ca(nullptr, subject, path_len, from, until);
}

TestCa make_sub_ca(const TestCa &issuer, const std::string &subject,
                   std::optional<long> path_len, hours from, hours until) {
  return make_ca(&issuer, subject, path_len, from, until);
}

ossl::Ptr<X509> issue_leaf(const TestCa &issuer, const std::string &subject, EVP_PKEY *key,
                           pki::Profile profile, hours from, hours until) {
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(key);
  plan.profile = profile;
  plan.not_before = Clock::now() + from;
  plan.not_after = Clock::now() + until;
  return pki::sign_certificate(plan, issuer.certificate.get(), issuer.key.get());
}

ossl::Ptr<X509_REQ> make_csr(EVP_PKEY *key, const CsrSpec &spec) {
  ossl::Ptr<X509_REQ> csr(X509_REQ_new());
  auto subject = pki::parse_subject(spec.subject);
  X509_REQ_set_subject_name(csr.get(), subject.get());
  X509_REQ_set_pubkey(csr.get(), key);
  if (!spec.extensions.empty()) {
    ossl::ExtensionStackPtr stack(sk_X509_EXTENSION_new_null());
    for (const auto &[nid, value] : spec.extensions)
      sk_X509_EXTENSION_push(stack.get(),
                             X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
    X509_REQ_add_extensions(csr.get(), stack.get());
  }
  X509_REQ_sign(csr.get(), key, EVP_sha256());
  if (spec.corrupt_signature) {
    const ASN1_BIT_STRING *signature = nullptr;
    X509_REQ_get0_signature(csr.get(), &signature, nullptr);
    auto *bytes = const_cast<unsigned char *>(ASN1_STRING_get0_data(signature));
    bytes[ASN1_STRING_length(signature) / 2] ^= 0x5a;
  }
  return csr;
}

bool put_key_off_curve(X509 *cert) {
  std::vector<unsigned char> point(65, 0x01);
  point[0] = 0x04; // uncompressed point, coordinates not on P-256
  auto *owned = static_cast<unsigned char *>(OPENSSL_memdup(point.data(), point.size()));
  if (owned == nullptr)
    return false;
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                             V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), owned,
                             int(point.size())) != 1) {
    OPENSSL_free(owned);
    return false;
  }
  return true;
}

} // namespace chainlab::testing
