#include "pki/policy.hpp"

#include <algorithm>

#include "ossl/errors.hpp"
#include "pki/inspect.hpp"

namespace chainlab::pki {
namespace {

// Backdating absorbs small clock differences between actors.
constexpr std::chrono::minutes kClockSkew{5};

std::string subject_for_text(const X509_NAME *name) {
  return name ? subject_text(name) : "(none)";
}

} // namespace

std::optional<Error> check_csr_signature(X509_REQ *csr) {
  EVP_PKEY *key = X509_REQ_get0_pubkey(csr);
  if (!key || X509_REQ_verify(csr, key) != 1) {
    ossl::drain_errors();
    return Error(Reason::csr_signature_invalid,
                 "CSR for " + subject_for_text(X509_REQ_get_subject_name(csr)) +
                     ": its self-signature does not verify with the public key "
                     "it carries (the requester may not hold that key)");
  }
  return std::nullopt;
}

std::optional<Error> check_key_strength(EVP_PKEY *key) {
  std::string described = describe_key(key);
  int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < 2048)
      return Error(Reason::weak_key,
                   "key " + described + " is too weak: RSA needs at least 2048 bits");
    return std::nullopt;
  }
  if (described == "EC P-256" || described == "EC P-384")
    return std::nullopt;
  return Error(Reason::weak_key,
               "key " + described +
                   " is not accepted: use EC P-256, EC P-384 or RSA >= 2048");
}

std::optional<Error> check_subject(const X509_NAME *requested,
                                   const X509_NAME *authorised) {
  // Exact text, not X509_NAME_cmp: X.500 matching ignores case, but a CN is
  // a device ID and "Widget-1" is not "widget-1".
  if (!authorised || subject_text(requested) == subject_text(authorised))
    return std::nullopt;
  return Error(Reason::subject_mismatch,
               "CSR asks for subject " + subject_for_text(requested) +
                   " but the enrolment was authorised for " +
                   subject_for_text(authorised));
}

bool is_valid_device_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == ':';
  });
}

std::optional<Error> check_device_id(const X509_NAME *subject) {
  auto cn = common_name(subject);
  if (cn && is_valid_device_id(*cn))
    return std::nullopt;
  return Error(Reason::invalid_device_id,
               "subject " + subject_for_text(subject) +
                   ": a device's CN is its device ID and must be 1 to 128 of "
                   "A-Z a-z 0-9 - . _ :");
}

std::optional<Error> check_requested_extensions(const RequestedExtensions &asked,
                                                Profile profile) {
  auto refuse = [&](const std::string &what) {
    return Error(Reason::extension_not_allowed,
                 "the CSR requests " + what + ", which the " +
                     std::string(to_string(profile)) + " policy does not allow");
  };
  if (!asked.others.empty())
    return refuse("extension " + asked.others.front());
  bool is_ca = profile == Profile::subordinate_ca || profile == Profile::root_ca;
  if (asked.ca && *asked.ca != is_ca)
    return refuse(*asked.ca ? "basicConstraints CA:TRUE" : "basicConstraints CA:FALSE");
  unsigned allowed_usage =
      is_ca ? (X509v3_KU_KEY_CERT_SIGN | X509v3_KU_CRL_SIGN |
               X509v3_KU_DIGITAL_SIGNATURE)
            : X509v3_KU_DIGITAL_SIGNATURE;
  if (asked.key_usage && (*asked.key_usage & ~allowed_usage))
    return refuse("keyUsage bits beyond what the profile grants");
  int allowed_eku = profile == Profile::device       ? NID_client_auth
                    : profile == Profile::tls_server ? NID_server_auth
                                                     : NID_undef;
  for (int eku : asked.extended_key_usage)
    if (eku != allowed_eku)
      return refuse(std::string("extended key usage ") +
                    (eku == NID_undef ? "(unknown OID)" : OBJ_nid2sn(eku)));
  return std::nullopt;
}

Result<std::optional<long>> decide_path_len(std::optional<long> granted,
                                            std::optional<long> asked,
                                            X509 *issuer) {
  std::optional<long> issuer_limit = path_len(issuer);
  std::string issuer_name = subject_text(issuer);
  if (issuer_limit && *issuer_limit <= 0)
    return Error(Reason::path_len_exceeded,
                 "issuer " + issuer_name +
                     " has pathLen 0: it may sign devices but no further CA");
  std::optional<long> most =
      issuer_limit ? std::optional<long>(*issuer_limit - 1) : std::nullopt;
  if (granted && most && *granted > *most)
    return Error(Reason::path_len_exceeded,
                 "pathLen " + std::to_string(*granted) + " was authorised, but " +
                     issuer_name + " has pathLen " + std::to_string(*issuer_limit) +
                     ", so a CA below it may have at most " + std::to_string(*most));
  std::optional<long> decided = granted ? granted : (most ? most : 0L);
  if (asked && *asked > *decided)
    return Error(Reason::path_len_exceeded,
                 "the CSR asks for pathLen " + std::to_string(*asked) +
                     " but at most " + std::to_string(*decided) +
                     " is authorised under " + issuer_name);
  return decided;
}

Result<ValidityWindow> decide_validity(std::chrono::seconds lifetime,
                                       X509 *issuer, TimePoint now) {
  TimePoint issuer_start = not_before(issuer), issuer_end = not_after(issuer);
  if (now >= issuer_end)
    return Error(Reason::issuer_expired,
                 "issuer " + subject_text(issuer) + " expired at " +
                     format_time(issuer_end) + "; it can no longer issue");
  if (now < issuer_start)
    return Error(Reason::issuer_expired,
                 "issuer " + subject_text(issuer) + " is not valid before " +
                     format_time(issuer_start));
  ValidityWindow window{std::max(now - kClockSkew, issuer_start),
                        std::min(now + lifetime, issuer_end)};
  return window;
}

Result<CertificatePlan> plan_certificate(const IssuanceRequest &request,
                                         X509 *issuer, TimePoint now) {
  X509_REQ *csr = request.csr;
  const X509_NAME *subject = X509_REQ_get_subject_name(csr);
  EVP_PKEY *key = X509_REQ_get0_pubkey(csr);
  if (!key)
    return Error(Reason::malformed_csr, "the CSR carries no usable public key");
  // 1. The request itself.
  if (auto refusal = check_csr_signature(csr))
    return *refusal;
  if (auto refusal = check_key_strength(key))
    return *refusal;
  if (auto refusal = check_subject(subject, request.authorised_subject))
    return *refusal;
  if (request.profile == Profile::device)
    if (auto refusal = check_device_id(subject))
      return *refusal;
  RequestedExtensions asked;
  try {
    asked = requested_extensions(csr);
  } catch (const Error &error) {
    return error;
  }
  if (auto refusal = check_requested_extensions(asked, request.profile))
    return *refusal;
  // 2. What to issue, within the issuer's own limits.
  CertificatePlan plan;
  plan.profile = request.profile;
  if (request.profile == Profile::subordinate_ca) {
    auto decided = decide_path_len(request.path_len, asked.path_len, issuer);
    if (!decided)
      return decided.error();
    plan.path_len = decided.value();
  }
  auto window = decide_validity(request.lifetime, issuer, now);
  if (!window)
    return window.error();
  plan.not_before = window.value().not_before;
  plan.not_after = window.value().not_after;
  plan.subject.reset(X509_NAME_dup(subject));
  plan.public_key = ossl::up_ref(key);
  return plan;
}

} // namespace chainlab::pki
