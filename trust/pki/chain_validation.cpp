#include "pki/chain_validation.hpp"

#include <string_view>

#include "ossl/errors.hpp"
#include "pki/inspect.hpp"

namespace chainlab::pki {
namespace {

struct Attempt {
  bool ok = false;
  int error = X509_V_OK;
  int depth = 0;
  ossl::Ptr<X509> failed; // the certificate the error is about
  CertList chain;
};

Attempt try_verify(X509 *leaf, const CertList &presented, const std::vector<X509 *> &trusted,
                   std::chrono::system_clock::time_point now) {
  ossl::Ptr<X509_STORE> store(X509_STORE_new());
  for (X509 *anchor : trusted)
    X509_STORE_add_cert(store.get(), anchor);
  ossl::BorrowingX509StackPtr untrusted(sk_X509_new_null()); // borrows |presented|
  for (const auto &cert : presented)
    sk_X509_push(untrusted.get(), cert.get());
  ossl::Ptr<X509_STORE_CTX> context(X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), leaf, untrusted.get());
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(context.get());
  // A registered CA may itself be an intermediate (a bought CA): it is the
  // anchor, whatever is above it.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT);
  X509_VERIFY_PARAM_set_auth_level(param, 2);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  Attempt attempt;
  attempt.ok = X509_verify_cert(context.get()) == 1;
  attempt.error = X509_STORE_CTX_get_error(context.get());
  attempt.depth = X509_STORE_CTX_get_error_depth(context.get());
  if (X509 *current = X509_STORE_CTX_get_current_cert(context.get()))
    attempt.failed = ossl::up_ref(current);
  if (attempt.ok) {
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(context.get());
    for (int i = 0; i < sk_X509_num(chain); ++i)
      attempt.chain.push_back(ossl::up_ref(sk_X509_value(chain, i)));
  }
  ossl::drain_errors();
  return attempt;
}

Error explain(const Attempt &attempt, X509 *leaf) {
  X509 *cert = attempt.failed ? attempt.failed.get() : leaf;
  std::string at = std::string(" (at depth ") + std::to_string(attempt.depth) + ")";
  std::string who = "certificate " + subject_text(cert) + at;
  switch (attempt.error) {
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    return Error(Reason::issuer_missing,
                 "no certificate for issuer " + issuer_text(cert) + ", which signed " + who +
                     ": the device did not present that intermediate, or it leads to no CA "
                     "this hub has verified");
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    return Error(Reason::ca_unknown, "the chain ends at self-signed " + subject_text(cert) + at +
                                         ", which is not a CA registered with this hub");
  case X509_V_ERR_CERT_HAS_EXPIRED:
    return Error(Reason::cert_expired,
                 who + " expired at " + format_time(not_after(cert)));
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return Error(Reason::cert_not_yet_valid,
                 who + " is not valid before " + format_time(not_before(cert)));
  case X509_V_ERR_INVALID_CA:
  case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    return Error(Reason::not_a_ca, who + " signed another certificate but is not a CA "
                                         "(basicConstraints CA:TRUE with keyCertSign)");
  case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    return Error(Reason::path_len_exceeded,
                 "the chain is deeper than the pathLen of " + who + " allows");
  case X509_V_ERR_INVALID_PURPOSE:
    return Error(Reason::wrong_purpose,
                 who + " is not for TLS client authentication (keyUsage/extendedKeyUsage)");
  case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    return Error(Reason::signature_invalid,
                 "the signature on " + who + " does not verify with its issuer's key");
  case X509_V_ERR_EE_KEY_TOO_SMALL:
  case X509_V_ERR_CA_KEY_TOO_SMALL:
    return Error(Reason::weak_key, who + " has a key below the required strength (" +
                                       describe_key(X509_get0_pubkey(cert)) + ")");
  case X509_V_ERR_CA_MD_TOO_WEAK:
    return Error(Reason::weak_signature,
                 who + " is signed with a digest too weak to accept (e.g. SHA-1)");
  default:
    return Error(Reason::chain_invalid,
                 who + ": " + X509_verify_cert_error_string(attempt.error));
  }
}

// describe_each_depth fills |validated|'s subjects and key fingerprints.
void describe_each_depth(ValidatedChain &validated) {
  for (const auto &cert : validated.chain) {
    validated.subjects.push_back(subject_text(cert.get()));
    validated.key_fingerprints.push_back(key_fingerprint(cert.get()));
  }
}

} // namespace

Result<ValidatedChain> validate_device_chain(X509 *leaf, const CertList &presented,
                                             const std::vector<TrustAnchor> &anchors,
                                             std::chrono::system_clock::time_point now) {
  std::vector<X509 *> trusted;
  for (const auto &anchor : anchors)
    if (anchor.verified && anchor.enabled)
      trusted.push_back(anchor.certificate.get());
  Attempt attempt = try_verify(leaf, presented, trusted, now);
  if (!attempt.ok) {
    // Would the chain have ended at a CA the hub knows but does not trust?
    for (const auto &anchor : anchors) {
      if (anchor.verified && anchor.enabled)
        continue;
      if (try_verify(leaf, presented, {anchor.certificate.get()}, now).ok)
        return anchor.verified
                   ? Error(Reason::ca_disabled, "the chain ends at CA " + anchor.name + " (" +
                                                    subject_text(anchor.certificate.get()) +
                                                    "), which is disabled on this hub")
                   : Error(Reason::ca_unverified,
                           "the chain ends at CA " + anchor.name + " (" +
                               subject_text(anchor.certificate.get()) +
                               "), which was uploaded but never proved possession of its key");
    }
    return explain(attempt, leaf);
  }
  ValidatedChain validated;
  X509 *anchor_cert = attempt.chain.back().get();
  for (const auto &anchor : anchors)
    if (X509_cmp(anchor.certificate.get(), anchor_cert) == 0 && anchor.verified)
      validated.anchor_name = anchor.name;
  validated.issuer_subject = issuer_text(leaf);
  validated.chain = std::move(attempt.chain);
  describe_each_depth(validated);
  validated.anchor_subject = validated.subjects.back();
  return validated;
}

std::string ChainValidator::generation_of(const std::vector<TrustAnchor> &anchors) {
  std::string generation;
  for (const auto &anchor : anchors)
    generation += anchor.name + "|" + sha256_fingerprint(anchor.certificate.get()) + "|" +
                  (anchor.verified ? "v" : "u") + (anchor.enabled ? "e" : "d") + ";";
  return generation;
}

std::optional<ValidatedChain> ChainValidator::from_cache(X509 *leaf, const CertList &presented,
                                                         std::chrono::system_clock::time_point now) {
  // Find the entry under the lock; verify outside it, so cores do not queue.
  CertList tail;
  ValidatedChain validated;
  {
    std::lock_guard lock(mutex_);
    for (const auto &candidate : presented) {
      if (X509_check_issued(candidate.get(), leaf) != X509_V_OK)
        continue;
      auto found = cache_.find(signature_bytes(candidate.get()));
      if (found == cache_.end() || now >= found->second.valid_until ||
          !same_certificate(candidate.get(), found->second.tail.front().get()))
        continue;
      const Cached &entry = found->second;
      tail = clone(entry.tail);
      validated.anchor_name = entry.anchor_name;
      validated.subjects = entry.subjects;
      validated.key_fingerprints = entry.key_fingerprints;
      break;
    }
  }
  if (tail.empty() || !try_verify(leaf, {}, {tail.front().get()}, now).ok)
    return std::nullopt; // the full path decides, and explains
  validated.chain.push_back(ossl::up_ref(leaf));
  for (auto &cert : tail)
    validated.chain.push_back(std::move(cert));
  validated.subjects.insert(validated.subjects.begin(), subject_text(leaf));
  validated.key_fingerprints.insert(validated.key_fingerprints.begin(), key_fingerprint(leaf));
  validated.anchor_subject = validated.subjects.back();
  validated.issuer_subject = issuer_text(leaf);
  std::lock_guard lock(mutex_);
  ++hits_;
  return validated;
}

Result<ValidatedChain> ChainValidator::validate(X509 *leaf, const CertList &presented,
                                                const std::vector<TrustAnchor> &anchors,
                                                std::chrono::system_clock::time_point now) {
  return validate(leaf, presented, anchors, now, generation_of(anchors));
}

Result<ValidatedChain> ChainValidator::validate(X509 *leaf, const CertList &presented,
                                                const std::vector<TrustAnchor> &anchors,
                                                std::chrono::system_clock::time_point now,
                                                const std::string &generation) {
  {
    std::lock_guard lock(mutex_);
    if (generation != generation_) {
      cache_.clear();
      generation_ = generation;
    }
  }
  if (auto cached = from_cache(leaf, presented, now))
    return std::move(*cached);
  auto result = validate_device_chain(leaf, presented, anchors, now);
  if (result && result.value().chain.size() >= 3) {
    const ValidatedChain &proven = result.value();
    Cached entry;
    entry.anchor_name = proven.anchor_name;
    entry.valid_until = std::chrono::system_clock::time_point::max();
    for (size_t i = 1; i < proven.chain.size(); ++i) {
      X509 *cert = proven.chain[i].get();
      entry.tail.push_back(ossl::up_ref(cert));
      entry.valid_until = std::min(entry.valid_until, not_after(cert));
    }
    const auto &keys = proven.key_fingerprints;
    entry.subjects.assign(proven.subjects.begin() + 1, proven.subjects.end());
    entry.key_fingerprints.assign(keys.begin() + 1, keys.end());
    std::string key(signature_bytes(entry.tail.front().get()));
    std::lock_guard lock(mutex_);
    if (generation == generation_)
      cache_[std::move(key)] = std::move(entry);
  }
  return result;
}

std::size_t ChainValidator::cache_hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::size_t ChainValidator::cache_size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

} // namespace chainlab::pki
