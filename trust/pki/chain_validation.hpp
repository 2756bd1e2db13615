// pki/chain_validation.hpp: strict X.509 validation of a device's chain
// against the CAs a hub trusts, with a precise reason for every failure:
// which issuer is missing, which certificate expired and when, at what
// depth. Verified and enabled CAs are the only trust anchors; a chain that
// would end at a known but unverified or disabled CA says so.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "pki/encoding.hpp"

namespace chainlab::pki {

struct TrustAnchor {
  std::string name; // the owner's name for it at the hub
  ossl::Ptr<X509> certificate;
  bool verified = false;
  bool enabled = true;
};

struct ValidatedChain {
  CertList chain;          // leaf first, ending at the anchor
  std::string anchor_name; // which registered CA it ends at
  std::string anchor_subject;
  std::string issuer_subject; // the CA that signed the leaf
  // Per depth, as |chain|: each certificate's subject and key fingerprint
  // (pki::subject_text, pki::key_fingerprint), kept with a cached chain so
  // that a handshake computes them for its leaf only.
  std::vector<std::string> subjects;
  std::vector<std::string> key_fingerprints;
};

// validate_device_chain: |leaf| plus the |presented| intermediates must
// verify up to a verified, enabled anchor, strictly (RFC 5280 profile,
// purpose sslclient, key strength and digest at security level 2), at |now|.
Result<ValidatedChain> validate_device_chain(X509 *leaf, const CertList &presented,
                                             const std::vector<TrustAnchor> &anchors,
                                             std::chrono::system_clock::time_point now);

// ChainValidator adds a cache to validate_device_chain: once a chain is
// proven, its first intermediate (the leaf's issuer) is trusted on its own,
// so the next device under it costs one signature check, with every strict
// check on the leaf still made by OpenSSL. The cache is dropped whenever
// the hub's CAs change, and an entry expires with the earliest notAfter
// above it. Thread-safe.
class ChainValidator {
public:
  Result<ValidatedChain> validate(X509 *leaf, const CertList &presented,
                                  const std::vector<TrustAnchor> &anchors,
                                  std::chrono::system_clock::time_point now);
  // The same, for a caller that computed generation_of(anchors) once.
  Result<ValidatedChain> validate(X509 *leaf, const CertList &presented,
                                  const std::vector<TrustAnchor> &anchors,
                                  std::chrono::system_clock::time_point now,
                                  const std::string &generation);
  // generation_of names a set of anchors and their states.
  static std::string generation_of(const std::vector<TrustAnchor> &anchors);
  std::size_t cache_hits() const;
  std::size_t cache_size() const;

private:
  struct Cached {
    CertList tail; // the intermediate first, up to the anchor
    std::vector<std::string> subjects, key_fingerprints; // of |tail|, in its order
    std::string anchor_name;
    std::chrono::system_clock::time_point valid_until;
  };
  std::optional<ValidatedChain> from_cache(X509 *leaf, const CertList &presented,
                                           std::chrono::system_clock::time_point now);

  mutable std::mutex mutex_;
  std::string generation_; // which anchors the cache was proven under
  // By the intermediate's signature bytes, which reading a certificate
  // leaves in place (a fingerprint re-encodes it first); a hit counts only
  // if the presented certificate is the cached one (same_certificate).
  std::map<std::string, Cached, std::less<>> cache_;
  std::size_t hits_ = 0;
};

} // namespace chainlab::pki
