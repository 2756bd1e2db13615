#include "core/reason.hpp"

#include <array>
#include <utility>

namespace chainlab {
namespace {

constexpr std::array kNames = {
    std::pair{Reason::malformed_csr, "malformed_csr"},
    std::pair{Reason::malformed_certificate, "malformed_certificate"},
    std::pair{Reason::malformed_request, "malformed_request"},
    std::pair{Reason::malformed_packet, "malformed_packet"},
    std::pair{Reason::packet_too_large, "packet_too_large"},
    std::pair{Reason::body_too_large, "body_too_large"},
    std::pair{Reason::headers_too_large, "headers_too_large"},
    std::pair{Reason::uri_too_long, "uri_too_long"},
    std::pair{Reason::limit_exceeded, "limit_exceeded"},
    std::pair{Reason::csr_signature_invalid, "csr_signature_invalid"},
    std::pair{Reason::weak_key, "weak_key"},
    std::pair{Reason::subject_mismatch, "subject_mismatch"},
    std::pair{Reason::invalid_device_id, "invalid_device_id"},
    std::pair{Reason::extension_not_allowed, "extension_not_allowed"},
    std::pair{Reason::path_len_exceeded, "path_len_exceeded"},
    std::pair{Reason::issuer_expired, "issuer_expired"},
    std::pair{Reason::secret_missing, "secret_missing"},
    std::pair{Reason::secret_unknown, "secret_unknown"},
    std::pair{Reason::secret_used, "secret_used"},
    std::pair{Reason::secret_expired, "secret_expired"},
    std::pair{Reason::client_cert_required, "client_cert_required"},
    std::pair{Reason::client_cert_unknown, "client_cert_unknown"},
    std::pair{Reason::unauthorized, "unauthorized"},
    std::pair{Reason::not_found, "not_found"},
    std::pair{Reason::private_key_in_upload, "private_key_in_upload"},
    std::pair{Reason::not_a_ca, "not_a_ca"},
    std::pair{Reason::cert_expired, "cert_expired"},
    std::pair{Reason::cert_not_yet_valid, "cert_not_yet_valid"},
    std::pair{Reason::duplicate_certificate, "duplicate_certificate"},
    std::pair{Reason::verification_code_missing, "verification_code_missing"},
    std::pair{Reason::verification_code_mismatch, "verification_code_mismatch"},
    std::pair{Reason::verification_code_expired, "verification_code_expired"},
    std::pair{Reason::verification_code_used, "verification_code_used"},
    std::pair{Reason::pop_failed, "pop_failed"},
    std::pair{Reason::ca_disabled, "ca_disabled"},
    std::pair{Reason::ca_unknown, "ca_unknown"},
    std::pair{Reason::ca_unverified, "ca_unverified"},
    std::pair{Reason::issuer_missing, "issuer_missing"},
    std::pair{Reason::wrong_purpose, "wrong_purpose"},
    std::pair{Reason::signature_invalid, "signature_invalid"},
    std::pair{Reason::weak_signature, "weak_signature"},
    std::pair{Reason::chain_invalid, "chain_invalid"},
    std::pair{Reason::client_cert_missing, "client_cert_missing"},
    std::pair{Reason::device_id_mismatch, "device_id_mismatch"},
    std::pair{Reason::device_disabled, "device_disabled"},
    std::pair{Reason::device_not_registered, "device_not_registered"},
    std::pair{Reason::device_pending, "device_pending"},
    std::pair{Reason::topic_not_allowed, "topic_not_allowed"},
    std::pair{Reason::duplicate_connection, "duplicate_connection"},
    std::pair{Reason::duplicate_device, "duplicate_device"},
    std::pair{Reason::identity_conflict, "identity_conflict"},
    std::pair{Reason::intermediate_disabled, "intermediate_disabled"},
    std::pair{Reason::queue_full, "queue_full"},
    std::pair{Reason::not_in_log, "not_in_log"},
    std::pair{Reason::log_unavailable, "log_unavailable"},
    std::pair{Reason::log_inconsistent, "log_inconsistent"},
    std::pair{Reason::server_untrusted, "server_untrusted"},
    std::pair{Reason::peer_unreachable, "peer_unreachable"},
    std::pair{Reason::peer_refused, "peer_refused"},
    std::pair{Reason::config_invalid, "config_invalid"},
    std::pair{Reason::key_store_failed, "key_store_failed"},
    std::pair{Reason::storage_failed, "storage_failed"},
    std::pair{Reason::internal_error, "internal_error"},
};

} // namespace

std::string_view to_string(Reason reason) {
  for (const auto &[value, name] : kNames)
    if (value == reason)
      return name;
  return "internal_error";
}

std::optional<Reason> reason_from_string(std::string_view name) {
  for (const auto &[value, text] : kNames)
    if (name == text)
      return value;
  return std::nullopt;
}

} // namespace chainlab
