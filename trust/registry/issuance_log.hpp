// registry/issuance_log.hpp: what a CA issued, and the one-time enrolment
// secrets its operator handed out. One SQLite file per CA, in its state
// directory. Secrets are stored only as SHA-256 hashes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/sqlite.hpp"
#include "registry/transparency_log.hpp"

namespace chainlab::registry {

using TimePoint = std::chrono::system_clock::time_point;

struct IssuedRecord {
  std::string serial;          // lower-case hex
  std::string subject;         // RFC 2253
  std::string profile;         // pki::Profile name
  std::string key_fingerprint; // SHA-256 of the SubjectPublicKeyInfo
  std::string requester;       // who asked: secret or certificate, and peer
  TimePoint issued_at;
  TimePoint not_before;
  TimePoint not_after;
  std::string certificate_pem;
};

struct StoredSecret {
  std::string secret_hash;
  std::string subject;  // RFC 2253 text the secret is bound to
  std::string profile;  // pki::Profile name
  std::optional<long> path_len;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> used_at;
};

class IssuanceLog {
public:
  explicit IssuanceLog(const std::string &path);

  // create_secret stores a new one-time secret bound to |secret.subject| and
  // returns the secret text (shown once; only its hash is kept).
  std::string create_secret(StoredSecret secret);
  std::optional<StoredSecret> find_secret(const std::string &secret_text);

  // record_issuance stores |record|, appends |entry| to the transparency
  // log and, when |secret_hash| is given, marks that secret used, all in
  // one transaction. Returns false (and stores nothing) if the secret was
  // used meanwhile.
  bool record_issuance(const IssuedRecord &record, const transparency::LogEntry &entry,
                       const std::optional<std::string> &secret_hash, TimePoint now);

  std::vector<IssuedRecord> list();
  std::optional<IssuedRecord> find_by_serial(const std::string &serial);
  // find_by_secret: what was issued on the secret with this hash, if any.
  std::optional<IssuedRecord> find_by_secret(const std::string &secret_hash);
  std::int64_t count();

  static std::string hash_secret(const std::string &secret_text);

  TransparencyLog &tree() { return tree_; }

private:
  Database db_;
  TransparencyLog tree_{db_};
};

} // namespace chainlab::registry
