// pki/encoding.hpp: certificates, CSRs and keys to and from PEM/DER bytes.
// Every parse failure names |source| (a file path or "EST response").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ossl/ptr.hpp"

namespace chainlab::pki {

using CertList = std::vector<ossl::Ptr<X509>>;

// parse_certificates reads every certificate in |bytes| (PEM, several
// allowed, or one DER). Throws Error(malformed_certificate) naming |source|.
CertList parse_certificates(std::string_view bytes, std::string_view source);
// parse_certificate reads exactly one certificate.
ossl::Ptr<X509> parse_certificate(std::string_view bytes,
                                  std::string_view source);
// parse_csr reads a PKCS#10 request from PEM or DER.
ossl::Ptr<X509_REQ> parse_csr(std::string_view bytes, std::string_view source);

std::string to_pem(X509 *cert);
std::string to_pem(const CertList &certs);
std::string to_pem(X509_REQ *csr);
std::string to_der(X509 *cert);
std::string to_der(X509_REQ *csr);

// base64 without line breaks, and its inverse tolerant of whitespace.
std::string base64_encode(std::string_view bytes);
// base64_decode throws Error(malformed_request) naming |source|.
std::string base64_decode(std::string_view text, std::string_view source);

std::string read_file(const std::string &path);
// write_file_atomically writes via a temporary file and rename, so a crash
// never leaves half a certificate behind. |mode| applies to the new file.
void write_file_atomically(const std::string &path, std::string_view bytes,
                           unsigned mode = 0644);

CertList clone(const CertList &certs);

} // namespace chainlab::pki
