// pki/certificate_builder.hpp: turning an approved plan into a signed
// certificate. Policy decides *what* to issue (pki/policy.hpp); this only
// encodes and signs it.
#pragma once

#include <chrono>
#include <optional>

#include "ossl/ptr.hpp"
#include "pki/profile.hpp"

namespace chainlab::pki {

// CertificatePlan is everything a certificate will say, decided beforehand.
struct CertificatePlan {
  ossl::Ptr<X509_NAME> subject;
  ossl::Ptr<EVP_PKEY> public_key;
  Profile profile = Profile::device;
  std::optional<long> path_len; // CA profiles only; nullopt = unconstrained
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  // tls_server only: the names it is valid for (OpenSSL's syntax).
  std::string subject_alt_name = "IP:127.0.0.1,DNS:localhost";
};

// signing_digest is SHA-384 for a P-384 issuer key, SHA-256 otherwise.
const EVP_MD *signing_digest(EVP_PKEY *issuer_key);

// sign_certificate encodes |plan| with a fresh random 128-bit serial, SKI,
// AKI and the profile's extensions, and signs it with |issuer_key|. A null
// |issuer_cert| makes the certificate self-signed (root CA).
ossl::Ptr<X509> sign_certificate(const CertificatePlan &plan, X509 *issuer_cert,
                                 EVP_PKEY *issuer_key);

} // namespace chainlab::pki
