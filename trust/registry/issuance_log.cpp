#include "registry/issuance_log.hpp"

#include "core/random.hpp"

#include <openssl/evp.h>

namespace chainlab::registry {
namespace {

std::string hex(const unsigned char *data, size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS issued (
  serial TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  profile TEXT NOT NULL,
  key_fingerprint TEXT NOT NULL,
  requester TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  certificate_pem TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS enrolment_secrets (
  secret_hash TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  profile TEXT NOT NULL,
  path_len INTEGER,
  expires_at INTEGER,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);
)sql";

constexpr const char *kIssuedColumns =
    "serial, subject, profile, key_fingerprint, requester, issued_at, "
    "not_before, not_after, certificate_pem";

IssuedRecord read_issued(const Statement &row) {
  return IssuedRecord{row.text(0),
                      row.text(1),
                      row.text(2),
                      row.text(3),
                      row.text(4),
                      from_seconds(row.integer(5)),
                      from_seconds(row.integer(6)),
                      from_seconds(row.integer(7)),
                      row.text(8)};
}

} // namespace

IssuanceLog::IssuanceLog(const std::string &path) : db_(path) {
  db_.execute(kSchema);
  db_.add_column("issued", "secret_hash", "TEXT"); // which secret a certificate answered
}

std::string IssuanceLog::hash_secret(const std::string &secret_text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(secret_text.data(), secret_text.size(), digest, &size,
             EVP_sha256(), nullptr);
  return hex(digest, size);
}

std::string IssuanceLog::create_secret(StoredSecret secret) {
  std::string text = random_hex(16);
  auto insert = db_.prepare(
      "INSERT INTO enrolment_secrets (secret_hash, subject, profile, path_len, "
      "expires_at, used_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)");
  insert.bind(1, hash_secret(text)).bind(2, secret.subject).bind(3, secret.profile);
  secret.path_len ? insert.bind(4, std::int64_t(*secret.path_len)) : insert.bind_null(4);
  secret.expires_at ? insert.bind(5, to_seconds(*secret.expires_at)) : insert.bind_null(5);
  insert.bind(6, to_seconds(std::chrono::system_clock::now()));
  insert.run();
  return text;
}

std::optional<StoredSecret> IssuanceLog::find_secret(const std::string &secret_text) {
  auto query = db_.prepare(
      "SELECT secret_hash, subject, profile, path_len, expires_at, used_at "
      "FROM enrolment_secrets WHERE secret_hash = ?");
  query.bind(1, hash_secret(secret_text));
  if (!query.step())
    return std::nullopt;
  StoredSecret secret{query.text(0), query.text(1), query.text(2), {}, {}, {}};
  if (!query.is_null(3))
    secret.path_len = long(query.integer(3));
  if (!query.is_null(4))
    secret.expires_at = from_seconds(query.integer(4));
  if (!query.is_null(5))
    secret.used_at = from_seconds(query.integer(5));
  return secret;
}

bool IssuanceLog::record_issuance(const IssuedRecord &record,
                                  const transparency::LogEntry &entry,
                                  const std::optional<std::string> &secret_hash,
                                  TimePoint now) {
  Transaction transaction(db_);
  if (secret_hash) {
    auto consume = db_.prepare(
        "UPDATE enrolment_secrets SET used_at = ? "
        "WHERE secret_hash = ? AND used_at IS NULL");
    consume.bind(1, to_seconds(now)).bind(2, *secret_hash).run();
    if (db_.changes() != 1)
      return false; // the transaction rolls back
  }
  db_.prepare(std::string("INSERT INTO issued (") + kIssuedColumns +
              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, record.serial)
      .bind(2, record.subject)
      .bind(3, record.profile)
      .bind(4, record.key_fingerprint)
      .bind(5, record.requester)
      .bind(6, to_seconds(record.issued_at))
      .bind(7, to_seconds(record.not_before))
      .bind(8, to_seconds(record.not_after))
      .bind(9, record.certificate_pem)
      .run();
  if (secret_hash)
    db_.prepare("UPDATE issued SET secret_hash = ? WHERE serial = ?")
        .bind(1, *secret_hash)
        .bind(2, record.serial)
        .run();
  tree_.append(entry);
  transaction.commit();
  return true;
}

std::optional<IssuedRecord> IssuanceLog::find_by_secret(const std::string &secret_hash) {
  auto query = db_.prepare(std::string("SELECT ") + kIssuedColumns +
                           " FROM issued WHERE secret_hash = ?");
  query.bind(1, secret_hash);
  if (!query.step())
    return std::nullopt;
  return read_issued(query);
}

std::vector<IssuedRecord> IssuanceLog::list() {
  auto query = db_.prepare(std::string("SELECT ") + kIssuedColumns +
                           " FROM issued ORDER BY rowid");
  std::vector<IssuedRecord> records;
  while (query.step())
    records.push_back(read_issued(query));
  return records;
}

std::optional<IssuedRecord> IssuanceLog::find_by_serial(const std::string &serial) {
  auto query = db_.prepare(std::string("SELECT ") + kIssuedColumns +
                           " FROM issued WHERE serial = ?");
  query.bind(1, serial);
  if (!query.step())
    return std::nullopt;
  return read_issued(query);
}

std::int64_t IssuanceLog::count() {
  auto query = db_.prepare("SELECT COUNT(*) FROM issued");
  query.step();
  return query.integer(0);
}

} // namespace chainlab::registry
