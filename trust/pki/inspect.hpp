// pki/inspect.hpp: read-only facts about certificates, names and keys,
// phrased for people (fingerprints, one-line subjects, key descriptions).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ossl/ptr.hpp"

namespace chainlab::pki {

using Clock = std::chrono::system_clock;

// sha256_fingerprint is the certificate's SHA-256 over its DER, as
// colon-separated upper-case hex (the form `openssl x509 -fingerprint` uses).
std::string sha256_fingerprint(X509 *cert);
// sha256_digest: the 32 raw bytes of SHA-256 over |bytes|.
std::string sha256_digest(std::string_view bytes);
// key_fingerprint is SHA-256 over the SubjectPublicKeyInfo, plain hex.
std::string key_fingerprint(EVP_PKEY *key);
// key_fingerprint of a certificate's subject key: the same value, cheaper.
std::string key_fingerprint(X509 *certificate);
// normalise_fingerprint strips colons/spaces and upper-cases, for comparing.
std::string normalise_fingerprint(std::string_view text);

// subject_text is the subject in RFC 2253 form ("CN=Factory-Y,O=Company-X").
std::string subject_text(const X509_NAME *name);
std::string subject_text(X509 *cert);
std::string issuer_text(X509 *cert);
// common_name is the first CN, or nullopt if there is none or it is not
// clean UTF-8 (embedded NUL, invalid sequences).
std::optional<std::string> common_name(const X509_NAME *name);
// parse_subject reads "CN=x,O=y" (RFC 2253 order, commas may be escaped
// with a backslash) into a name. Throws Error(config_invalid) on bad text.
ossl::Ptr<X509_NAME> parse_subject(std::string_view text);

// describe_key names the algorithm and size: "EC P-256", "RSA 2048";
// a null |key| (a certificate whose key did not decode) is said so.
std::string describe_key(EVP_PKEY *key);
std::string serial_hex(X509 *cert);
// signature_bytes: the certificate's signature as read (no re-encoding).
std::string_view signature_bytes(const X509 *cert);
// same_certificate: the signed part (as X509_cmp compares it), the signature
// algorithm and the signature bytes are all the same.
bool same_certificate(const X509 *a, const X509 *b);

Clock::time_point not_before(X509 *cert);
Clock::time_point not_after(X509 *cert);
std::string format_time(Clock::time_point when); // ISO 8601, UTC
std::optional<Clock::time_point> parse_time(std::string_view iso8601);

// path_len returns nullopt when the certificate sets no pathLen constraint.
std::optional<long> path_len(X509 *cert);
bool is_ca(X509 *cert);

} // namespace chainlab::pki
