// pki/policy.hpp: issuance policy as small validators, applied in a fixed
// order by plan_certificate: check the request, then decide what to issue
// (pathLen, validity), then enforce the issuer's own limits. Every refusal
// is an Error with a stable reason; nothing is signed until all pass.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/csr.hpp"

namespace chainlab::pki {

using TimePoint = std::chrono::system_clock::time_point;

// IssuanceRequest is a CSR plus what the CA operator authorised for it.
struct IssuanceRequest {
  X509_REQ *csr = nullptr;
  Profile profile = Profile::device;
  // The subject the enrolment secret (or current certificate) was issued
  // for; the CSR must ask for exactly this name.
  const X509_NAME *authorised_subject = nullptr;
  // For subordinate CAs: the pathLen the operator granted (nullopt = the
  // most the issuer allows).
  std::optional<long> path_len;
  std::chrono::seconds lifetime{std::chrono::hours(24 * 365)};
};

// The validators, each usable on its own and tested as a table.
std::optional<Error> check_csr_signature(X509_REQ *csr);
std::optional<Error> check_key_strength(EVP_PKEY *key);
std::optional<Error> check_subject(const X509_NAME *requested,
                                   const X509_NAME *authorised);
// is_valid_device_id: 1 to 128 of A-Z a-z 0-9 - . _ :
bool is_valid_device_id(std::string_view id);
std::optional<Error> check_device_id(const X509_NAME *subject);
std::optional<Error> check_requested_extensions(const RequestedExtensions &asked,
                                                Profile profile);
// decide_path_len: the pathLen a new subordinate CA gets under |issuer|.
Result<std::optional<long>> decide_path_len(std::optional<long> granted,
                                            std::optional<long> asked,
                                            X509 *issuer);

struct ValidityWindow {
  TimePoint not_before;
  TimePoint not_after;
};
// decide_validity clamps [now - skew, now + lifetime] into the issuer's own
// validity; an issuer that has expired (or is not yet valid) issues nothing.
Result<ValidityWindow> decide_validity(std::chrono::seconds lifetime,
                                       X509 *issuer, TimePoint now);

// plan_certificate runs every validator in order and returns the plan to
// sign, or the first refusal.
Result<CertificatePlan> plan_certificate(const IssuanceRequest &request,
                                         X509 *issuer, TimePoint now);

} // namespace chainlab::pki
