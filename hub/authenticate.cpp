#include "hub/authenticate.hpp"

#include <string_view>

#include "pki/inspect.hpp"
#include "pki/policy.hpp"

namespace chainlab::hub {
namespace {

using TimePoint = std::chrono::system_clock::time_point;
constexpr const char *kLink = " <- ";

std::vector<std::string> split_chain(const std::string &text) {
  std::vector<std::string> parts;
  for (size_t start = 0; !text.empty();) {
    size_t end = text.find(kLink, start);
    parts.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos)
      break;
    start = end + std::string(kLink).size();
  }
  return parts;
}

std::string short_thumbprint(const std::string &thumbprint) {
  return pki::normalise_fingerprint(thumbprint).substr(0, 16) + "…";
}

bool same_thumbprint(const std::string &a, const std::string &b) {
  return pki::normalise_fingerprint(a) == pki::normalise_fingerprint(b);
}

// disabled_intermediate: is any CA above the leaf under a standing rule?
std::optional<Error> disabled_intermediate(const std::vector<registry::IntermediateRule> &rules,
                                           const registry::DeviceRecord &device) {
  auto subjects = split_chain(device.chain_subjects);
  auto keys = split_chain(device.chain_keys);
  for (size_t depth = 1; depth < subjects.size() && depth < keys.size(); ++depth)
    for (const auto &rule : rules)
      if (rule.subject == subjects[depth] &&
          (rule.key_fingerprint.empty() || rule.key_fingerprint == keys[depth]))
        return Error(Reason::intermediate_disabled,
                     "device " + device.device_id + "'s chain passes through " + subjects[depth] +
                         " (at depth " + std::to_string(depth) + ", key sha256 " +
                         keys[depth].substr(0, 16) + "…), whose devices an operator disabled");
  return std::nullopt;
}

std::optional<Error> ca_refusal(const TenantSnapshot &snapshot, const std::string &device_id,
                                const std::string &ca_name) {
  auto policy = snapshot.cas->policies.find(ca_name);
  if (policy == snapshot.cas->policies.end())
    return Error(Reason::ca_unknown, "device " + device_id + "'s CA " + ca_name +
                                         " was deleted from hub " + snapshot.hub);
  if (!policy->second.enabled)
    return Error(Reason::ca_disabled, "device " + device_id + "'s CA " + ca_name +
                                          " is disabled on hub " + snapshot.hub);
  if (!policy->second.verified)
    return Error(Reason::ca_unverified, "device " + device_id + "'s CA " + ca_name +
                                            " is not verified on hub " + snapshot.hub);
  return std::nullopt;
}

Result<AuthenticatedDevice> by_thumbprint(const registry::DeviceRecord &registered, X509 *leaf,
                                          const std::string &thumbprint, TimePoint now) {
  const std::string &id = registered.device_id;
  if (!same_thumbprint(registered.thumbprint, thumbprint))
    return Error(Reason::identity_conflict,
                 "device " + id + " is registered by thumbprint " +
                     short_thumbprint(registered.thumbprint) + "; the presented certificate " +
                     pki::subject_text(leaf) + " (issued by " + pki::issuer_text(leaf) +
                     ", thumbprint " + short_thumbprint(thumbprint) +
                     ") is another certificate, and no CA can stand in for it");
  if (pki::not_before(leaf) > now)
    return Error(Reason::cert_not_yet_valid, "certificate " + pki::subject_text(leaf) +
                                                 " (at depth 0) is not valid before " +
                                                 pki::format_time(pki::not_before(leaf)));
  if (pki::not_after(leaf) <= now)
    return Error(Reason::cert_expired, "certificate " + pki::subject_text(leaf) +
                                           " (at depth 0) expired at " +
                                           pki::format_time(pki::not_after(leaf)));
  if (!registered.enabled)
    return Error(Reason::device_disabled, "device " + id + " is disabled");
  AuthenticatedDevice out;
  out.device = registered;
  out.device.issuer_subject = pki::issuer_text(leaf);
  out.device.chain_subjects = pki::subject_text(leaf) + " (thumbprint registration)";
  out.authentication = "thumbprint";
  out.binding = Binding::same_certificate;
  return out;
}

AuthenticatedDevice describe(const pki::ValidatedChain &chain, const std::string &device_id,
                             const std::string &thumbprint) {
  AuthenticatedDevice out;
  registry::DeviceRecord &device = out.device;
  device.device_id = device_id;
  device.registration = "ca";
  device.ca_name = chain.anchor_name;
  device.issuer_subject = chain.issuer_subject;
  device.thumbprint = thumbprint;
  // Computed once per cached chain above the leaf (pki::ChainValidator).
  for (size_t depth = 0; depth < chain.subjects.size(); ++depth) {
    std::string_view separator = depth == 0 ? "" : kLink;
    device.chain_subjects.append(separator).append(chain.subjects[depth]);
    device.chain_keys.append(separator).append(chain.key_fingerprints[depth]);
  }
  if (chain.key_fingerprints.size() > 1)
    device.issuer_key = chain.key_fingerprints[1];
  return out;
}

// bind_known: a registered device presents a valid chain. Which certificate
// may stand for it is its registering CA's certificate-change policy.
Result<AuthenticatedDevice> bind_known(const TenantSnapshot &snapshot,
                                       const registry::DeviceRecord &registered,
                                       AuthenticatedDevice out) {
  const std::string &id = registered.device_id;
  out.device.enabled = registered.enabled;
  out.device.approved = registered.approved;
  out.device.registration = registered.registration;
  if (!registered.enabled)
    return Error(Reason::device_disabled, "device " + id + " is disabled on hub " + snapshot.hub);
  if (registered.thumbprint.empty()) {
    out.binding = Binding::bind_pre_registered;
    return out;
  }
  if (!registered.approved)
    return Error(Reason::device_pending, "device " + id + " awaits an operator's approval");
  if (same_thumbprint(registered.thumbprint, out.device.thumbprint)) {
    out.binding = Binding::same_certificate;
    return out;
  }
  auto policy = snapshot.cas->policies.find(registered.ca_name);
  std::string rule = policy == snapshot.cas->policies.end() ? std::string("same-issuer")
                                                            : policy->second.certificate_change;
  bool same_issuer = registered.issuer_subject == out.device.issuer_subject &&
                     registered.issuer_key == out.device.issuer_key &&
                     registered.ca_name == out.device.ca_name;
  if (rule == "pinned" || (rule == "same-issuer" && !same_issuer))
    return Error(Reason::identity_conflict,
                 "device " + id + " is registered with certificate " +
                     short_thumbprint(registered.thumbprint) + " issued by " +
                     registered.issuer_subject + " (CA " + registered.ca_name +
                     "); this certificate " + short_thumbprint(out.device.thumbprint) +
                     " is issued by " + out.device.issuer_subject + " (CA " + out.device.ca_name +
                     "), and CA " + registered.ca_name + "'s certificate-change policy is " +
                     rule);
  out.binding = Binding::certificate_change;
  out.previous_thumbprint = registered.thumbprint;
  out.previous_chain = registered.chain_subjects;
  return out;
}

// require_log: a certificate new to the hub is kept for auditors; under
// onboarding "logged" its issuer must have a registered log, which is then
// asked (at CONNECT) for the proof.
Result<AuthenticatedDevice> require_log(const TenantSnapshot &snapshot, const CaPolicy &policy,
                                        X509 *leaf, AuthenticatedDevice out) {
  if (out.binding == Binding::same_certificate)
    return out;
  out.certificate_der = pki::to_der(leaf);
  if (policy.onboarding != "logged")
    return out;
  for (const auto &log : policy.logs)
    if (log->key_fingerprint == out.device.issuer_key) {
      out.required_log = log;
      return out;
    }
  return Error(Reason::not_in_log,
               "device " + out.device.device_id + " (certificate " +
                   short_thumbprint(out.device.thumbprint) + ", at depth 0) is issued by " +
                   out.device.issuer_subject + " (key sha256 " + out.device.issuer_key.substr(0, 16) +
                   "…), which has no transparency log registered with CA " + out.device.ca_name +
                   " on hub " + snapshot.hub + " (onboarding \"logged\"), so no log can show it");
}

} // namespace

std::optional<Error> judge_inclusion(const std::string &device_id,
                                     const std::string &issuer_subject,
                                     const LogRegistration &log,
                                     const std::optional<Error> &log_failure) {
  if (!log_failure)
    return std::nullopt;
  const Error &why = *log_failure;
  if (why.reason() == Reason::not_in_log)
    return Error(Reason::not_in_log,
                 "device " + device_id + "'s certificate (at depth 0) is not in the transparency "
                 "log of its issuer " + issuer_subject + " at " + log.url +
                 ": it was signed outside the supply chain's record (" + why.detail() + ")");
  return Error(Reason::log_unavailable,
               "device " + device_id + "'s certificate (at depth 0) could not be checked against "
               "the transparency log of its issuer " + issuer_subject + " at " + log.url + " (" +
               why.detail() + ")");
}

Result<AuthenticatedDevice> authenticate_device(const TenantSnapshot &snapshot, X509 *leaf,
                                                const pki::CertList &presented, TimePoint now) {
  auto cn = pki::common_name(X509_get_subject_name(leaf));
  if (!cn || !pki::is_valid_device_id(*cn))
    return Error(Reason::invalid_device_id,
                 "client certificate " + pki::subject_text(leaf) +
                     " (at depth 0): its CN is not a device ID (1 to 128 of A-Z a-z 0-9 - . _ :, "
                     "no NUL)");
  std::string thumbprint = pki::sha256_fingerprint(leaf);
  auto registered = snapshot.devices.find(*cn);
  if (registered && registered->registration == "thumbprint")
    return by_thumbprint(*registered, leaf, thumbprint, now);
  const CaTrust &cas = *snapshot.cas;
  auto chain = cas.validator.validate(leaf, presented, cas.anchors, now, cas.generation);
  if (!chain)
    return chain.error();
  // The rules below match the chain's descriptions; one missing a depth
  // must refuse, never match nothing.
  const auto &proven = chain.value();
  if (proven.subjects.size() != proven.chain.size() ||
      proven.key_fingerprints.size() != proven.chain.size())
    return Error(Reason::internal_error, "the chain of " + pki::subject_text(leaf) +
                                             " (at depth 0) was validated without a description "
                                             "of each certificate; refused");
  AuthenticatedDevice out = describe(proven, *cn, thumbprint);
  auto rule = disabled_intermediate(snapshot.disabled_intermediates, out.device);
  const CaPolicy &policy = cas.policies.at(out.device.ca_name);
  out.onboarding = policy.onboarding;
  if (registered) {
    // The device's own state speaks first (a disabled device is told so);
    // a standing rule on its intermediate still applies after that.
    auto bound = bind_known(snapshot, *registered, std::move(out));
    if (bound && rule)
      return *rule;
    if (!bound)
      return bound;
    return require_log(snapshot, policy, leaf, std::move(bound.value()));
  }
  if (rule)
    return *rule;
  if (policy.onboarding == "pre-registered")
    return Error(Reason::device_not_registered,
                 "CA " + out.device.ca_name + " admits only pre-registered devices, and " + *cn +
                     " was never registered on hub " + snapshot.hub);
  out.binding = Binding::new_device;
  out.device.approved = policy.onboarding != "approval";
  return require_log(snapshot, policy, leaf, std::move(out));
}

std::optional<Error> still_admitted(const TenantSnapshot &snapshot,
                                    const registry::DeviceRecord &connected) {
  const std::string &id = connected.device_id;
  auto registered = snapshot.devices.find(id);
  if (!registered)
    return Error(Reason::device_not_registered,
                 "device " + id + " was deleted from hub " + snapshot.hub);
  if (!registered->enabled)
    return Error(Reason::device_disabled, "device " + id + " was disabled on hub " + snapshot.hub);
  if (!same_thumbprint(registered->thumbprint, connected.thumbprint))
    return Error(Reason::identity_conflict,
                 "device " + id + "'s registration is now bound to certificate " +
                     short_thumbprint(registered->thumbprint) + ", not the connected " +
                     short_thumbprint(connected.thumbprint));
  if (registered->registration == "thumbprint")
    return std::nullopt;
  return issuer_withdrawn(snapshot, connected);
}

std::optional<Error> issuer_withdrawn(const TenantSnapshot &snapshot,
                                      const registry::DeviceRecord &connected) {
  if (auto refusal = ca_refusal(snapshot, connected.device_id, connected.ca_name))
    return refusal;
  return disabled_intermediate(snapshot.disabled_intermediates, connected);
}

} // namespace chainlab::hub
