#include "registry/hub_registry.hpp"

#include <openssl/rand.h>

#include "core/error.hpp"
#include "registry/issuance_log.hpp"

namespace chainlab::registry {
namespace {

std::int64_t to_seconds(TimePoint when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch())
      .count();
}
TimePoint from_seconds(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS hubs (
  name TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ca_certificates (
  hub TEXT NOT NULL REFERENCES hubs(name),
  name TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  subject TEXT NOT NULL,
  thumbprint TEXT NOT NULL,
  verified INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  verified_at INTEGER,
  verification_code TEXT NOT NULL DEFAULT '',
  code_expires_at INTEGER,
  code_used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (hub, name),
  UNIQUE (hub, thumbprint)
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hub TEXT NOT NULL,
  time INTEGER NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql";

constexpr const char *kCaColumns =
    "hub, name, certificate_pem, subject, thumbprint, verified, enabled, not_after, "
    "created_at, verified_at, verification_code, code_expires_at, code_used";

CaRecord read_ca(const Statement &row) {
  CaRecord record;
  record.hub = row.text(0);
  record.name = row.text(1);
  record.certificate_pem = row.text(2);
  record.subject = row.text(3);
  record.thumbprint = row.text(4);
  record.verified = row.integer(5) != 0;
  record.enabled = row.integer(6) != 0;
  record.not_after = from_seconds(row.integer(7));
  record.created_at = from_seconds(row.integer(8));
  if (!row.is_null(9))
    record.verified_at = from_seconds(row.integer(9));
  record.verification_code = row.text(10);
  if (!row.is_null(11))
    record.code_expires_at = from_seconds(row.integer(11));
  record.code_used = row.integer(12) != 0;
  return record;
}

void bind_optional_time(Statement &statement, int index, const std::optional<TimePoint> &when) {
  when ? statement.bind(index, to_seconds(*when)) : statement.bind_null(index);
}

} // namespace

HubRegistry::HubRegistry(const std::string &path) : db_(path) { db_.execute(kSchema); }

std::string HubRegistry::create_hub(const std::string &hub) {
  if (hub_exists(hub))
    throw Error(Reason::config_invalid, "a hub named \"" + hub + "\" exists already");
  unsigned char random[24];
  RAND_bytes(random, sizeof random);
  static constexpr char digits[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : random) {
    token += digits[b >> 4];
    token += digits[b & 0xf];
  }
  db_.prepare("INSERT INTO hubs (name, token_hash, created_at) VALUES (?, ?, ?)")
      .bind(1, hub)
      .bind(2, IssuanceLog::hash_secret(token))
      .bind(3, to_seconds(std::chrono::system_clock::now()))
      .run();
  return token;
}

bool HubRegistry::hub_exists(const std::string &hub) {
  auto query = db_.prepare("SELECT 1 FROM hubs WHERE name = ?");
  query.bind(1, hub);
  return query.step();
}

bool HubRegistry::authorise(const std::string &hub, const std::string &token) {
  auto query = db_.prepare("SELECT token_hash FROM hubs WHERE name = ?");
  query.bind(1, hub);
  return query.step() && !token.empty() &&
         query.text(0) == IssuanceLog::hash_secret(token);
}

void HubRegistry::add_ca(const CaRecord &record) {
  auto insert = db_.prepare(std::string("INSERT INTO ca_certificates (") + kCaColumns +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, record.hub)
      .bind(2, record.name)
      .bind(3, record.certificate_pem)
      .bind(4, record.subject)
      .bind(5, record.thumbprint)
      .bind(6, std::int64_t(record.verified))
      .bind(7, std::int64_t(record.enabled))
      .bind(8, to_seconds(record.not_after))
      .bind(9, to_seconds(record.created_at));
  bind_optional_time(insert, 10, record.verified_at);
  insert.bind(11, record.verification_code);
  bind_optional_time(insert, 12, record.code_expires_at);
  insert.bind(13, std::int64_t(record.code_used));
  insert.run();
}

std::optional<CaRecord> HubRegistry::find_ca(const std::string &hub, const std::string &name) {
  auto query = db_.prepare(std::string("SELECT ") + kCaColumns +
                           " FROM ca_certificates WHERE hub = ? AND name = ?");
  query.bind(1, hub).bind(2, name);
  if (!query.step())
    return std::nullopt;
  return read_ca(query);
}

std::optional<CaRecord> HubRegistry::find_ca_by_thumbprint(const std::string &hub,
                                                           const std::string &thumbprint) {
  auto query = db_.prepare(std::string("SELECT ") + kCaColumns +
                           " FROM ca_certificates WHERE hub = ? AND thumbprint = ?");
  query.bind(1, hub).bind(2, thumbprint);
  if (!query.step())
    return std::nullopt;
  return read_ca(query);
}

std::vector<CaRecord> HubRegistry::list_cas(const std::string &hub) {
  auto query = db_.prepare(std::string("SELECT ") + kCaColumns +
                           " FROM ca_certificates WHERE hub = ? ORDER BY created_at, name");
  query.bind(1, hub);
  std::vector<CaRecord> records;
  while (query.step())
    records.push_back(read_ca(query));
  return records;
}

void HubRegistry::update_ca(const CaRecord &record) {
  auto update = db_.prepare(
      "UPDATE ca_certificates SET verified = ?, enabled = ?, verified_at = ?, "
      "verification_code = ?, code_expires_at = ?, code_used = ? WHERE hub = ? AND name = ?");
  update.bind(1, std::int64_t(record.verified)).bind(2, std::int64_t(record.enabled));
  bind_optional_time(update, 3, record.verified_at);
  update.bind(4, record.verification_code);
  bind_optional_time(update, 5, record.code_expires_at);
  update.bind(6, std::int64_t(record.code_used)).bind(7, record.hub).bind(8, record.name);
  update.run();
}

bool HubRegistry::delete_ca(const std::string &hub, const std::string &name) {
  db_.prepare("DELETE FROM ca_certificates WHERE hub = ? AND name = ?")
      .bind(1, hub)
      .bind(2, name)
      .run();
  return db_.changes() == 1;
}

std::int64_t HubRegistry::add_event(const EventRecord &event) {
  db_.prepare("INSERT INTO events (hub, time, kind, reason, subject, detail) "
              "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, event.hub)
      .bind(2, to_seconds(event.time))
      .bind(3, event.kind)
      .bind(4, event.reason)
      .bind(5, event.subject)
      .bind(6, event.detail)
      .run();
  auto query = db_.prepare("SELECT last_insert_rowid()");
  query.step();
  return query.integer(0);
}

std::vector<EventRecord> HubRegistry::events(const std::string &hub, std::int64_t after_id) {
  auto query = db_.prepare("SELECT id, hub, time, kind, reason, subject, detail FROM events "
                           "WHERE hub = ? AND id > ? ORDER BY id");
  query.bind(1, hub).bind(2, after_id);
  std::vector<EventRecord> events;
  while (query.step())
    events.push_back({query.integer(0), query.text(1), from_seconds(query.integer(2)),
                      query.text(3), query.text(4), query.text(5), query.text(6)});
  return events;
}

} // namespace chainlab::registry
