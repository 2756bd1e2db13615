// est/codec.hpp: RFC 7030 message bodies, as pure functions over bytes.
// EST carries DER inside base64 ("Content-Transfer-Encoding: base64"):
// certificates as a certs-only CMS SignedData, requests as PKCS#10.
#pragma once

#include <string>
#include <string_view>

#include "pki/encoding.hpp"

namespace chainlab::est {

inline constexpr std::string_view kCertsOnlyType =
    "application/pkcs7-mime; smime-type=certs-only";
inline constexpr std::string_view kCaCertsType = "application/pkcs7-mime";
inline constexpr std::string_view kCsrType = "application/pkcs10";

// encode_certs_only: base64 of a degenerate SignedData holding |certs|.
std::string encode_certs_only(const pki::CertList &certs);
// decode_certs_only reverses it. Throws Error(malformed_certificate) naming
// |source| when the body is not base64 or not a certs-only SignedData.
pki::CertList decode_certs_only(std::string_view body, std::string_view source);

std::string encode_csr(X509_REQ *csr);
// decode_csr throws Error(malformed_csr) naming |source|.
ossl::Ptr<X509_REQ> decode_csr(std::string_view body, std::string_view source);

} // namespace chainlab::est
