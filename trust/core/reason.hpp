// core/reason.hpp: the stable, machine-readable reason codes.
// Tests assert these; scenario files name them; their strings never change.
#pragma once

#include <optional>
#include <string_view>

namespace chainlab {

enum class Reason {
  // Input that could not be parsed.
  malformed_csr,
  malformed_certificate,
  malformed_request,
  malformed_packet,
  packet_too_large,
  // Limits on what a client may send (each detail names the limit).
  body_too_large,
  headers_too_large,
  uri_too_long,
  limit_exceeded,
  // Issuance policy.
  csr_signature_invalid,
  weak_key,
  subject_mismatch,
  invalid_device_id,
  extension_not_allowed,
  path_len_exceeded,
  issuer_expired,
  // Enrolment authorisation.
  secret_missing,
  secret_unknown,
  secret_used,
  secret_expired,
  client_cert_required,
  client_cert_unknown,
  // Hub: tenants and the service API.
  unauthorized,
  not_found,
  // Hub: CA registration and proof-of-possession.
  private_key_in_upload,
  not_a_ca,
  cert_expired,
  cert_not_yet_valid,
  duplicate_certificate,
  verification_code_missing,
  verification_code_mismatch,
  verification_code_expired,
  verification_code_used,
  pop_failed,
  ca_disabled,
  // Hub: device connections (chain validation, then authorisation).
  ca_unknown,
  ca_unverified,
  issuer_missing,
  wrong_purpose,
  signature_invalid,
  weak_signature,
  chain_invalid,
  client_cert_missing,
  device_id_mismatch,
  device_disabled,
  device_not_registered,
  device_pending,
  topic_not_allowed,
  duplicate_connection,
  duplicate_device,
  identity_conflict,
  intermediate_disabled,
  queue_full,
  // Transparency: CA issuance logs.
  not_in_log,       // the certificate is in no log of its issuer
  log_unavailable,  // the log could not be asked, or its answer did not verify
  log_inconsistent, // a log forked or was rewritten
  // Talking to a peer.
  server_untrusted,
  peer_unreachable,
  peer_refused,
  // Local configuration and adapters.
  config_invalid,
  key_store_failed,
  storage_failed,
  internal_error,
};

// to_string returns the stable snake_case name of |reason|.
std::string_view to_string(Reason reason);
// reason_from_string is the inverse of to_string; nullopt for unknown names.
std::optional<Reason> reason_from_string(std::string_view name);

} // namespace chainlab
