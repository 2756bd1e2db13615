#include "core/protocol_codes.hpp"

#include <cstddef>
#include <iterator>

#include <openssl/ssl.h>

namespace chainlab {
namespace {

// TLS alerts a refused client certificate can get.
constexpr int kBad = SSL_AD_BAD_CERTIFICATE, kUnknownCa = SSL_AD_UNKNOWN_CA,
              kExpired = SSL_AD_CERTIFICATE_EXPIRED, kUnsupported = SSL_AD_UNSUPPORTED_CERTIFICATE,
              kDecryptError = SSL_AD_DECRYPT_ERROR, kRequired = SSL_AD_CERTIFICATE_REQUIRED;

struct Codes {
  Reason reason;
  int http_status;
  int tls_alert;
  int connack_code;
  bool answered_after_tls;
};

// One row per reason, in Reason's order (checked below): what every
// protocol answers for it. A new reason that has no row does not compile.
constexpr Codes kCodes[] = {
    // reason, HTTP status, TLS alert, CONNACK code, answered after TLS
    {Reason::malformed_csr, 400, kBad, 5, false},
    {Reason::malformed_certificate, 400, kBad, 5, false},
    {Reason::malformed_request, 400, kBad, 5, false},
    // CONNACK 1: a CONNECT that parses but speaks another protocol version
    {Reason::malformed_packet, 400, kBad, 1, false},
    {Reason::packet_too_large, 413, kBad, 5, false},
    {Reason::body_too_large, 413, kBad, 5, false},
    {Reason::headers_too_large, 431, kBad, 5, false},
    {Reason::uri_too_long, 414, kBad, 5, false},
    {Reason::limit_exceeded, 400, kBad, 5, false},
    {Reason::csr_signature_invalid, 400, kBad, 5, false},
    {Reason::weak_key, 400, kBad, 5, false},
    {Reason::subject_mismatch, 403, kBad, 5, false},
    {Reason::invalid_device_id, 400, kBad, 5, false},
    {Reason::extension_not_allowed, 400, kBad, 5, false},
    {Reason::path_len_exceeded, 403, kUnknownCa, 5, false},
    {Reason::issuer_expired, 503, kBad, 5, false},
    {Reason::secret_missing, 401, kBad, 5, false},
    {Reason::secret_unknown, 401, kBad, 5, false},
    {Reason::secret_used, 403, kBad, 5, false},
    {Reason::secret_expired, 403, kBad, 5, false},
    {Reason::client_cert_required, 401, kBad, 5, false},
    {Reason::client_cert_unknown, 403, kBad, 5, false},
    {Reason::unauthorized, 401, kBad, 5, false},
    {Reason::not_found, 404, kBad, 5, false},
    {Reason::private_key_in_upload, 400, kBad, 5, false},
    {Reason::not_a_ca, 400, kUnknownCa, 5, false},
    {Reason::cert_expired, 400, kExpired, 5, false},
    {Reason::cert_not_yet_valid, 400, kBad, 5, false},
    {Reason::duplicate_certificate, 409, kBad, 5, false},
    {Reason::verification_code_missing, 400, kBad, 5, false},
    {Reason::verification_code_mismatch, 400, kBad, 5, false},
    {Reason::verification_code_expired, 400, kBad, 5, false},
    {Reason::verification_code_used, 400, kBad, 5, false},
    {Reason::pop_failed, 400, kBad, 5, false},
    {Reason::ca_disabled, 403, kUnknownCa, 5, false},
    {Reason::ca_unknown, 403, kUnknownCa, 5, false},
    {Reason::ca_unverified, 403, kUnknownCa, 5, false},
    {Reason::issuer_missing, 403, kUnknownCa, 5, false},
    {Reason::wrong_purpose, 403, kUnsupported, 5, false},
    {Reason::signature_invalid, 403, kDecryptError, 5, false},
    {Reason::weak_signature, 403, kBad, 5, false},
    {Reason::chain_invalid, 403, kBad, 5, false},
    {Reason::client_cert_missing, 403, kRequired, 5, false},
    {Reason::device_id_mismatch, 403, kBad, 5, false},
    {Reason::device_disabled, 403, kBad, 5, true},
    {Reason::device_not_registered, 403, kBad, 5, true},
    {Reason::device_pending, 403, kBad, 5, true},
    {Reason::topic_not_allowed, 403, kBad, 5, false},
    {Reason::duplicate_connection, 403, kBad, 5, false},
    {Reason::duplicate_device, 409, kBad, 5, false},
    {Reason::identity_conflict, 403, kBad, 5, true},
    {Reason::intermediate_disabled, 403, kUnknownCa, 5, false},
    // Azure answers a full device queue with 403
    {Reason::queue_full, 403, kBad, 5, false},
    // the issuer's log is asked at CONNECT
    {Reason::not_in_log, 403, kBad, 5, true},
    {Reason::log_unavailable, 502, kBad, 3, true},
    {Reason::log_inconsistent, 502, kBad, 5, false},
    {Reason::server_untrusted, 502, kBad, 5, false},
    {Reason::peer_unreachable, 502, kBad, 5, false},
    {Reason::peer_refused, 502, kBad, 5, false},
    {Reason::config_invalid, 500, kBad, 5, false},
    {Reason::key_store_failed, 500, kBad, 5, false},
    // CONNACK 3: server unavailable, so the device may retry
    {Reason::storage_failed, 500, kBad, 3, false},
    {Reason::internal_error, 500, kBad, 3, false},
};

constexpr bool one_row_per_reason_in_order() {
  for (std::size_t i = 0; i < std::size(kCodes); ++i)
    if (kCodes[i].reason != Reason(i))
      return false;
  return std::size(kCodes) == std::size_t(Reason::internal_error) + 1;
}
static_assert(one_row_per_reason_in_order(), "kCodes needs one row per Reason, in its order");

const Codes &codes(Reason reason) {
  auto index = std::size_t(reason);
  return index < std::size(kCodes) ? kCodes[index] : kCodes[std::size(kCodes) - 1];
}

} // namespace

int http_status(Reason reason) { return codes(reason).http_status; }
int tls_alert(Reason reason) { return codes(reason).tls_alert; }
int connack_code(Reason reason) { return codes(reason).connack_code; }
bool answered_after_tls(Reason reason) { return codes(reason).answered_after_tls; }

} // namespace chainlab
