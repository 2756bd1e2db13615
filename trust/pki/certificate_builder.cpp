#include "pki/certificate_builder.hpp"

#include <openssl/rand.h>

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::pki {
namespace {

ossl::Ptr<ASN1_STRING> random_serial() {
  ossl::Ptr<BIGNUM> number(BN_new());
  // 128 random bits; a zero serial is not allowed, so draw again then.
  do {
    BN_rand(number.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  } while (BN_is_zero(number.get()));
  return ossl::Ptr<ASN1_STRING>(BN_to_ASN1_INTEGER(number.get(), nullptr));
}

void add_extension(X509 *cert, X509V3_CTX *context, int nid,
                   const std::string &value) {
  ossl::Ptr<X509_EXTENSION> extension(
      X509V3_EXT_conf_nid(nullptr, context, nid, value.c_str()));
  if (!extension || !X509_add_ext(cert, extension.get(), -1))
    throw Error(Reason::internal_error, "cannot add extension " + value +
                                            " (" + ossl::drain_errors() + ")");
}

void set_time(ASN1_TIME *field, std::chrono::system_clock::time_point when) {
  ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(when));
}

void add_profile_extensions(X509 *cert, X509V3_CTX *context,
                            const CertificatePlan &plan) {
  switch (plan.profile) {
  case Profile::root_ca:
  case Profile::subordinate_ca:
    add_extension(cert, context, NID_basic_constraints,
                  plan.path_len
                      ? "critical,CA:TRUE,pathlen:" + std::to_string(*plan.path_len)
                      : std::string("critical,CA:TRUE"));
    add_extension(cert, context, NID_key_usage, "critical,keyCertSign,cRLSign");
    break;
  case Profile::device:
    add_extension(cert, context, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, context, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, context, NID_ext_key_usage, "clientAuth");
    break;
  case Profile::tls_server:
    add_extension(cert, context, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, context, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, context, NID_ext_key_usage, "serverAuth");
    add_extension(cert, context, NID_subject_alt_name, plan.subject_alt_name.c_str());
    break;
  case Profile::verification:
    add_extension(cert, context, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, context, NID_key_usage, "critical,digitalSignature");
    break;
  }
}

} // namespace

const EVP_MD *signing_digest(EVP_PKEY *issuer_key) {
  bool p384 = EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_EC &&
              EVP_PKEY_get_bits(issuer_key) >= 384;
  return p384 ? EVP_sha384() : EVP_sha256();
}

ossl::Ptr<X509> sign_certificate(const CertificatePlan &plan, X509 *issuer_cert,
                                 EVP_PKEY *issuer_key) {
  ossl::Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  X509_set_serialNumber(cert.get(), random_serial().get());
  X509_set_subject_name(cert.get(), plan.subject.get());
  X509_set_issuer_name(cert.get(), issuer_cert
                                       ? X509_get_subject_name(issuer_cert)
                                       : plan.subject.get());
  set_time(X509_getm_notBefore(cert.get()), plan.not_before);
  set_time(X509_getm_notAfter(cert.get()), plan.not_after);
  X509_set_pubkey(cert.get(), plan.public_key.get());

  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer_cert ? issuer_cert : cert.get(), cert.get(),
                 nullptr, nullptr, 0);
  add_profile_extensions(cert.get(), &context, plan);
  add_extension(cert.get(), &context, NID_subject_key_identifier, "hash");
  // A self-signed certificate's AKI is its own SKI, added just above.
  add_extension(cert.get(), &context, NID_authority_key_identifier,
                "keyid:always");

  if (X509_sign(cert.get(), issuer_key, signing_digest(issuer_key)) <= 0)
    throw Error(Reason::key_store_failed,
                "the issuer key could not sign (" + ossl::drain_errors() + ")");
  return cert;
}

} // namespace chainlab::pki
