#include "core/protocol_codes.hpp"

#include <openssl/ssl.h>

namespace chainlab {

int http_status(Reason reason) {
  switch (reason) {
  case Reason::malformed_csr:
  case Reason::malformed_certificate:
  case Reason::malformed_request:
  case Reason::malformed_packet:
  case Reason::csr_signature_invalid:
  case Reason::weak_key:
  case Reason::invalid_device_id:
  case Reason::extension_not_allowed:
  case Reason::private_key_in_upload:
  case Reason::not_a_ca:
  case Reason::cert_expired:
  case Reason::cert_not_yet_valid:
  case Reason::verification_code_missing:
  case Reason::verification_code_mismatch:
  case Reason::verification_code_expired:
  case Reason::verification_code_used:
  case Reason::pop_failed:
    return 400;
  case Reason::not_found:
    return 404;
  case Reason::packet_too_large:
  case Reason::body_too_large:
    return 413;
  case Reason::uri_too_long:
    return 414;
  case Reason::headers_too_large:
    return 431;
  case Reason::limit_exceeded:
    return 400;
  case Reason::duplicate_certificate:
  case Reason::duplicate_device:
    return 409;
  case Reason::secret_missing:
  case Reason::secret_unknown:
  case Reason::client_cert_required:
  case Reason::unauthorized:
    return 401;
  case Reason::subject_mismatch:
  case Reason::path_len_exceeded:
  case Reason::secret_used:
  case Reason::secret_expired:
  case Reason::client_cert_unknown:
  case Reason::ca_disabled:
  case Reason::ca_unknown:
  case Reason::ca_unverified:
  case Reason::issuer_missing:
  case Reason::wrong_purpose:
  case Reason::signature_invalid:
  case Reason::weak_signature:
  case Reason::chain_invalid:
  case Reason::client_cert_missing:
  case Reason::device_id_mismatch:
  case Reason::device_disabled:
  case Reason::device_not_registered:
  case Reason::device_pending:
  case Reason::topic_not_allowed:
  case Reason::duplicate_connection:
  case Reason::identity_conflict:
  case Reason::intermediate_disabled:
  case Reason::not_in_log:
    return 403;
  case Reason::queue_full: // Azure answers a full device queue with 403
    return 403;
  case Reason::issuer_expired:
    return 503;
  case Reason::server_untrusted:
  case Reason::peer_unreachable:
  case Reason::peer_refused:
  case Reason::log_unavailable:
  case Reason::log_inconsistent:
    return 502;
  case Reason::config_invalid:
  case Reason::key_store_failed:
  case Reason::storage_failed:
  case Reason::internal_error:
    return 500;
  }
  return 500;
}

int tls_alert(Reason reason) {
  switch (reason) {
  case Reason::issuer_missing:
  case Reason::ca_unknown:
  case Reason::ca_unverified:
  case Reason::ca_disabled:
  case Reason::not_a_ca:
  case Reason::path_len_exceeded:
  case Reason::intermediate_disabled:
    return SSL_AD_UNKNOWN_CA;
  case Reason::cert_expired:
    return SSL_AD_CERTIFICATE_EXPIRED;
  case Reason::wrong_purpose:
    return SSL_AD_UNSUPPORTED_CERTIFICATE;
  case Reason::signature_invalid:
    return SSL_AD_DECRYPT_ERROR;
  case Reason::client_cert_missing:
    return SSL_AD_CERTIFICATE_REQUIRED;
  default:
    return SSL_AD_BAD_CERTIFICATE;
  }
}

int connack_code(Reason reason) {
  switch (reason) {
  case Reason::malformed_packet:
    return 1; // a CONNECT that parses but speaks another protocol version
  case Reason::storage_failed:
  case Reason::internal_error:
  case Reason::log_unavailable:
    return 3; // server unavailable: the device may retry, it is not refused
  default:
    return 5;
  }
}

bool answered_after_tls(Reason reason) {
  switch (reason) {
  case Reason::device_disabled:
  case Reason::device_not_registered:
  case Reason::device_pending:
  case Reason::identity_conflict:
  // The issuer's log is asked after TLS, when the device sends CONNECT.
  case Reason::not_in_log:
  case Reason::log_unavailable:
    return true;
  default:
    return false;
  }
}

} // namespace chainlab
