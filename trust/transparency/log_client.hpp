// transparency/log_client.hpp: asks a CA's transparency log, and believes
// nothing it does not check. TLS is pinned to the CA's certificate; every
// tree head must carry the CA key's signature; every proof is verified
// here before it is returned. Asio stays behind net/.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "net/tls_context.hpp"
#include "ossl/ptr.hpp"
#include "transparency/log_entry.hpp"

namespace chainlab::transparency {

// LogLocation: where a log is and whose it is. The CA certificate's key
// signs the tree heads, and its fingerprint pins the log server's TLS.
struct LogLocation {
  std::string url; // https://host:port
  ossl::Ptr<X509> ca_certificate;
};

// parse_log_url accepts https://HOST:PORT with an optional trailing "/".
Result<std::pair<std::string, std::uint16_t>> parse_log_url(const std::string &url);

struct LocatedEntry {
  std::uint64_t index = 0;
  std::string entry; // encoded
};

// Inclusion: a certificate's entry and the verified proof that it is in
// the tree the signed head commits to.
struct Inclusion {
  LocatedEntry located;
  TreeHead head;
};

class LogClient {
public:
  // |location| is copied. Throws Error(config_invalid) for a bad URL.
  explicit LogClient(const LogLocation &location);
  const std::string &name() const { return name_; } // the CA's subject
  const std::string &url() const { return url_; }
  EVP_PKEY *key() const { return X509_get0_pubkey(certificate_.get()); }

  // Each call fails with log_unavailable (unreachable, malformed, or an
  // answer that does not verify) or, where a lookup finds nothing,
  // not_in_log. Details name the log, its URL and what failed.
  Result<TreeHead> tree_head();
  Result<std::vector<std::string>> entries(std::uint64_t start, std::uint64_t end);
  Result<std::vector<Hash>> consistency(std::uint64_t first, std::uint64_t second);
  Result<LocatedEntry> entry_by_certificate(const std::string &certificate_sha256);
  // prove_inclusion verifies that |leaf| is entry |index| of |head|'s tree
  // with the log's own proof by hash.
  Result<bool> prove_inclusion(const Hash &leaf, std::uint64_t index, const TreeHead &head);
  // prove_certificate: is this certificate (DER) in the log, proven against
  // the latest signed tree head?
  Result<Inclusion> prove_certificate(const std::string &certificate_der);

private:
  LogClient(const LogLocation &location, const std::pair<std::string, std::uint16_t> &address);
  Result<nlohmann::json> get(const std::string &operation);
  Error unavailable(const std::string &what) const;

  std::string url_, host_, name_;
  std::uint16_t port_ = 0;
  ossl::Ptr<X509> certificate_;
  net::PinnedClientContext tls_;
};

} // namespace chainlab::transparency
