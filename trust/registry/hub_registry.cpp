#include "registry/hub_registry.hpp"

#include <memory>

#include <algorithm>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/secrets.hpp"
#include "registry/issuance_log.hpp"

namespace chainlab::registry {
namespace {

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
  onboarding TEXT NOT NULL DEFAULT 'first-connection',
  PRIMARY KEY (hub, name),
  UNIQUE (hub, thumbprint)
);
CREATE TABLE IF NOT EXISTS devices (
  hub TEXT NOT NULL REFERENCES hubs(name),
  device_id TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  approved INTEGER NOT NULL DEFAULT 1,
  registration TEXT NOT NULL,
  ca_name TEXT NOT NULL,
  issuer_subject TEXT NOT NULL,
  chain_subjects TEXT NOT NULL,
  thumbprint TEXT NOT NULL,
  first_connected INTEGER,
  last_connected INTEGER,
  reported_version INTEGER NOT NULL DEFAULT 1,
  reported_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (hub, device_id)
);
CREATE TABLE IF NOT EXISTS telemetry (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hub TEXT NOT NULL,
  device_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS disabled_intermediates (
  hub TEXT NOT NULL REFERENCES hubs(name),
  subject TEXT NOT NULL,
  key_fingerprint TEXT NOT NULL,
  PRIMARY KEY (hub, subject, key_fingerprint)
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
-- Every certificate a device was admitted with, for auditors.
CREATE TABLE IF NOT EXISTS device_certificates (
  hub TEXT NOT NULL,
  thumbprint TEXT NOT NULL,
  certificate_der BLOB NOT NULL,
  PRIMARY KEY (hub, thumbprint)
);
CREATE INDEX IF NOT EXISTS events_by_hub ON events (hub, id);
CREATE INDEX IF NOT EXISTS telemetry_by_device ON telemetry (hub, device_id, id);
)sql";

constexpr const char *kCaColumns =
    "hub, name, certificate_pem, subject, thumbprint, verified, enabled, not_after, "
    "created_at, verified_at, verification_code, code_expires_at, code_used, onboarding, "
    "certificate_change, logs";

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
  record.onboarding = row.text(13);
  record.certificate_change = row.text(14);
  record.logs = row.text(15);
  return record;
}

void bind_optional_time(Statement &statement, int index, const std::optional<TimePoint> &when) {
  when ? statement.bind(index, to_seconds(*when)) : statement.bind_null(index);
}

} // namespace

HubRegistry::HubRegistry(const std::string &path) : db_(path) {
  db_.execute(kSchema);
  // Columns added after the first schema; older hub.db files gain them.
  db_.add_column("ca_certificates", "certificate_change", "TEXT NOT NULL DEFAULT 'same-issuer'");
  db_.add_column("devices", "issuer_key", "TEXT NOT NULL DEFAULT ''");
  db_.add_column("devices", "chain_keys", "TEXT NOT NULL DEFAULT ''");
  db_.add_column("ca_certificates", "logs", "TEXT NOT NULL DEFAULT '[]'");
}

HubRegistry::~HubRegistry() {
  try {
    std::lock_guard lock(mutex_);
    flush_events_locked();
  } catch (...) { // a failing disk at exit: the batch is lost, the process ends anyway
  }
}

std::string HubRegistry::create_hub(const std::string &hub) {
  std::lock_guard lock(mutex_);
  auto exists = db_.prepare("SELECT 1 FROM hubs WHERE name = ?");
  exists.bind(1, hub);
  if (exists.step())
    throw Error(Reason::config_invalid, "a hub named \"" + hub + "\" exists already");
  std::string token = random_hex(24);
  db_.prepare("INSERT INTO hubs (name, token_hash, created_at) VALUES (?, ?, ?)")
      .bind(1, hub)
      .bind(2, IssuanceLog::hash_secret(token))
      .bind(3, to_seconds(std::chrono::system_clock::now()))
      .run();
  return token;
}

bool HubRegistry::hub_exists(const std::string &hub) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT 1 FROM hubs WHERE name = ?");
  query.bind(1, hub);
  return query.step();
}

std::vector<std::string> HubRegistry::hub_names() {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT name FROM hubs ORDER BY name");
  std::vector<std::string> names;
  while (query.step())
    names.push_back(query.text(0));
  return names;
}

bool HubRegistry::authorise(const std::string &hub, const std::string &token) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT token_hash FROM hubs WHERE name = ?");
  query.bind(1, hub);
  return query.step() && !token.empty() &&
         secrets_equal(query.text(0), IssuanceLog::hash_secret(token));
}

void HubRegistry::add_ca(const CaRecord &record, const EventRecord &event) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  Transaction transaction(db_);
  auto insert = db_.prepare(std::string("INSERT INTO ca_certificates (") + kCaColumns +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
  insert.bind(13, std::int64_t(record.code_used)).bind(14, record.onboarding);
  insert.bind(15, record.certificate_change).bind(16, record.logs);
  insert.run();
  insert_event(event);
  transaction.commit();
}

std::optional<CaRecord> HubRegistry::find_ca(const std::string &hub, const std::string &name) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare(std::string("SELECT ") + kCaColumns +
                           " FROM ca_certificates WHERE hub = ? AND name = ?");
  query.bind(1, hub).bind(2, name);
  if (!query.step())
    return std::nullopt;
  return read_ca(query);
}

std::optional<CaRecord> HubRegistry::find_ca_by_thumbprint(const std::string &hub,
                                                           const std::string &thumbprint) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare(std::string("SELECT ") + kCaColumns +
                           " FROM ca_certificates WHERE hub = ? AND thumbprint = ?");
  query.bind(1, hub).bind(2, thumbprint);
  if (!query.step())
    return std::nullopt;
  return read_ca(query);
}

std::vector<CaRecord> HubRegistry::list_cas(const std::string &hub) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare(std::string("SELECT ") + kCaColumns +
                           " FROM ca_certificates WHERE hub = ? ORDER BY created_at, name");
  query.bind(1, hub);
  std::vector<CaRecord> records;
  while (query.step())
    records.push_back(read_ca(query));
  return records;
}

void HubRegistry::update_ca(const CaRecord &record, const EventRecord &event) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  Transaction transaction(db_);
  auto update = db_.prepare(
      "UPDATE ca_certificates SET verified = ?, enabled = ?, verified_at = ?, "
      "verification_code = ?, code_expires_at = ?, code_used = ?, onboarding = ?, "
      "certificate_change = ?, logs = ? WHERE hub = ? AND name = ?");
  update.bind(1, std::int64_t(record.verified)).bind(2, std::int64_t(record.enabled));
  bind_optional_time(update, 3, record.verified_at);
  update.bind(4, record.verification_code);
  bind_optional_time(update, 5, record.code_expires_at);
  update.bind(6, std::int64_t(record.code_used)).bind(7, record.onboarding);
  update.bind(8, record.certificate_change).bind(9, record.logs);
  update.bind(10, record.hub).bind(11, record.name);
  update.run();
  insert_event(event);
  transaction.commit();
}

bool HubRegistry::delete_ca(const std::string &hub, const std::string &name,
                            const EventRecord &event) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  Transaction transaction(db_);
  db_.prepare("DELETE FROM ca_certificates WHERE hub = ? AND name = ?")
      .bind(1, hub)
      .bind(2, name)
      .run();
  if (db_.changes() != 1)
    return false;
  insert_event(event);
  transaction.commit();
  return true;
}

void HubRegistry::insert_event(const EventRecord &event) {
  db_.prepare("INSERT INTO events (hub, time, kind, reason, subject, detail) "
              "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, event.hub)
      .bind(2, to_seconds(event.time))
      .bind(3, event.kind)
      .bind(4, event.reason)
      .bind(5, event.subject)
      .bind(6, event.detail)
      .run();
}

std::int64_t HubRegistry::add_event(const EventRecord &event) {
  std::lock_guard lock(mutex_);
  flush_events_locked(); // keep the log in the order things happened
  insert_event(event);
  auto query = db_.prepare("SELECT last_insert_rowid()");
  query.step();
  std::int64_t id = query.integer(0);
  apply_retention_locked(event.hub);
  return id;
}

void HubRegistry::add_event_later(EventRecord event) {
  std::lock_guard lock(mutex_);
  if (deferred_.size() >= kMaxDeferredEvents) {
    ++dropped_;
    return;
  }
  deferred_.push_back(std::move(event));
}

void HubRegistry::flush_events() {
  std::lock_guard lock(mutex_);
  flush_events_locked();
}

void HubRegistry::flush_events_locked() {
  if (deferred_.empty())
    return;
  Transaction transaction(db_);
  write_deferred_events_locked();
  transaction.commit();
}

void HubRegistry::write_deferred_events_locked() {
  if (deferred_.empty())
    return;
  std::vector<EventRecord> batch;
  batch.swap(deferred_);
  if (dropped_ > 0) {
    EventRecord summary = batch.back();
    summary.kind = "events_not_itemised";
    summary.detail = std::to_string(dropped_) + " more events (refusals, disconnections) arrived while " +
                     std::to_string(kMaxDeferredEvents) +
                     " were waiting to be written; they were counted, not itemised";
    batch.push_back(summary);
    dropped_ = 0;
  }
  std::vector<std::string> hubs;
  for (const auto &event : batch) {
    insert_event(event);
    if (std::find(hubs.begin(), hubs.end(), event.hub) == hubs.end())
      hubs.push_back(event.hub);
  }
  for (const auto &hub : hubs)
    apply_retention_locked(hub);
}

void HubRegistry::set_event_retention(std::size_t events_per_hub) {
  std::lock_guard lock(mutex_);
  retention_ = events_per_hub;
}

void HubRegistry::apply_retention_locked(const std::string &hub) {
  if (retention_ == 0)
    return;
  db_.prepare("DELETE FROM events WHERE hub = ?1 AND id <= (SELECT id FROM events WHERE hub = ?1 "
              "ORDER BY id DESC LIMIT 1 OFFSET ?2)")
      .bind(1, hub)
      .bind(2, std::int64_t(retention_))
      .run();
}

std::vector<EventRecord> HubRegistry::events(const std::string &hub, std::int64_t after_id,
                                             std::size_t limit) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  auto query = db_.prepare("SELECT id, hub, time, kind, reason, subject, detail FROM events "
                           "WHERE hub = ? AND id > ? ORDER BY id LIMIT ?");
  // SQLite reads a negative LIMIT as none.
  std::int64_t rows = limit > std::size_t(INT64_MAX) ? -1 : std::int64_t(limit);
  query.bind(1, hub).bind(2, after_id).bind(3, rows);
  std::vector<EventRecord> events;
  while (query.step())
    events.push_back({query.integer(0), query.text(1), from_seconds(query.integer(2)),
                      query.text(3), query.text(4), query.text(5), query.text(6)});
  return events;
}

std::map<std::string, long> HubRegistry::refusal_counts(const std::string &hub,
                                                        std::int64_t up_to_id,
                                                        std::int64_t after_id) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT reason, COUNT(*) FROM events WHERE hub = ? AND id > ? "
                           "AND id <= ? AND reason != '' GROUP BY reason");
  query.bind(1, hub).bind(2, after_id).bind(3, up_to_id);
  std::map<std::string, long> counts;
  while (query.step())
    counts[query.text(0)] = long(query.integer(1));
  return counts;
}

std::int64_t HubRegistry::last_event_id(const std::string &hub) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  auto query = db_.prepare("SELECT COALESCE(MAX(id), 0) FROM events WHERE hub = ?");
  query.bind(1, hub);
  return query.step() ? query.integer(0) : 0;
}

namespace {

constexpr const char *kDeviceColumns =
    "hub, device_id, enabled, registration, ca_name, issuer_subject, chain_subjects, "
    "thumbprint, first_connected, last_connected, approved, issuer_key, chain_keys";

DeviceRecord read_device(const Statement &row) {
  DeviceRecord record;
  record.hub = row.text(0);
  record.device_id = row.text(1);
  record.enabled = row.integer(2) != 0;
  record.registration = row.text(3);
  record.ca_name = row.text(4);
  record.issuer_subject = row.text(5);
  record.chain_subjects = row.text(6);
  record.thumbprint = row.text(7);
  if (!row.is_null(8))
    record.first_connected = from_seconds(row.integer(8));
  if (!row.is_null(9))
    record.last_connected = from_seconds(row.integer(9));
  record.approved = row.integer(10) != 0;
  record.issuer_key = row.text(11);
  record.chain_keys = row.text(12);
  return record;
}

} // namespace

void HubRegistry::upsert_device(const DeviceRecord &record) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(
      std::string("INSERT INTO devices (") + kDeviceColumns +
      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hub, device_id) DO UPDATE SET "
      "enabled = excluded.enabled, approved = excluded.approved, "
      "registration = excluded.registration, "
      "ca_name = excluded.ca_name, issuer_subject = excluded.issuer_subject, "
      "chain_subjects = excluded.chain_subjects, thumbprint = excluded.thumbprint, "
      "issuer_key = excluded.issuer_key, chain_keys = excluded.chain_keys, "
      "first_connected = COALESCE(devices.first_connected, excluded.first_connected), "
      "last_connected = excluded.last_connected");
  statement.bind(1, record.hub)
      .bind(2, record.device_id)
      .bind(3, std::int64_t(record.enabled))
      .bind(4, record.registration)
      .bind(5, record.ca_name)
      .bind(6, record.issuer_subject)
      .bind(7, record.chain_subjects)
      .bind(8, record.thumbprint);
  bind_optional_time(statement, 9, record.first_connected);
  bind_optional_time(statement, 10, record.last_connected);
  statement.bind(11, std::int64_t(record.approved));
  statement.bind(12, record.issuer_key).bind(13, record.chain_keys);
  statement.run();
}

namespace {

// The binding fields: what the certificate says, never what operators own.
constexpr const char *kBindingUpdate =
    "UPDATE devices SET ca_name = ?1, issuer_subject = ?2, chain_subjects = ?3, thumbprint = ?4, "
    "issuer_key = ?5, chain_keys = ?6, last_connected = ?7, "
    "first_connected = COALESCE(first_connected, ?7) "
    "WHERE hub = ?8 AND device_id = ?9 AND thumbprint = ?10";

} // namespace

bool HubRegistry::admit_device(const Admission &admission) {
  std::lock_guard lock(mutex_);
  flush_events_locked(); // earlier refusals stay before this connection's events
  Transaction transaction(db_);
  if (!write_admission_locked(admission))
    return false; // nothing was written
  transaction.commit();
  return true;
}

void HubRegistry::admit_device_durably(Admission admission, std::function<void(Admitted)> done) {
  auto written = std::make_shared<bool>(false);
  group_.submit(
      [this, admission = std::move(admission), written](Database &) {
        write_deferred_events_locked(); // earlier refusals stay before these events
        *written = write_admission_locked(admission);
      },
      [written, done = std::move(done)](bool committed) {
        done(!committed ? Admitted::not_written : *written ? Admitted::yes : Admitted::conflict);
      });
}

// write_admission_locked writes the device row and its events only if the
// row is as the admission expects; false, and nothing written, otherwise.
bool HubRegistry::write_admission_locked(const Admission &admission) {
  const DeviceRecord &device = admission.device;
  if (!admission.certificate_der.empty())
    db_.prepare("INSERT OR IGNORE INTO device_certificates (hub, thumbprint, certificate_der) "
                "VALUES (?, ?, ?)")
        .bind(1, device.hub)
        .bind(2, device.thumbprint)
        .bind_blob(3, admission.certificate_der)
        .run();
  using Kind = Admission::Kind;
  if (admission.kind == Kind::register_new) {
    auto insert = db_.prepare(
        std::string("INSERT INTO devices (") + kDeviceColumns +
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hub, device_id) DO NOTHING");
    insert.bind(1, device.hub).bind(2, device.device_id).bind(3, std::int64_t(1));
    insert.bind(4, device.registration).bind(5, device.ca_name).bind(6, device.issuer_subject);
    insert.bind(7, device.chain_subjects).bind(8, device.thumbprint);
    bind_optional_time(insert, 9, device.last_connected);
    bind_optional_time(insert, 10, device.last_connected);
    insert.bind(11, std::int64_t(device.approved));
    insert.bind(12, device.issuer_key).bind(13, device.chain_keys);
    insert.run();
  } else if (admission.kind == Kind::reconnect) {
    auto update = db_.prepare("UPDATE devices SET last_connected = ? "
                              "WHERE hub = ? AND device_id = ? AND thumbprint = ?");
    update.bind(2, device.hub).bind(3, device.device_id).bind(4, device.thumbprint);
    bind_optional_time(update, 1, device.last_connected);
    update.run();
  } else {
    auto update = db_.prepare(kBindingUpdate);
    update.bind(1, device.ca_name).bind(2, device.issuer_subject).bind(3, device.chain_subjects);
    update.bind(4, device.thumbprint).bind(5, device.issuer_key).bind(6, device.chain_keys);
    bind_optional_time(update, 7, device.last_connected);
    update.bind(8, device.hub).bind(9, device.device_id).bind(10, admission.expected_thumbprint);
    update.run();
  }
  if (db_.changes() != 1)
    return false;
  for (const auto &event : admission.events)
    insert_event(event);
  return true;
}

void HubRegistry::set_devices_enabled(const std::string &hub,
                                      const std::vector<std::string> &device_ids, bool enabled,
                                      const EventRecord &event) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  Transaction transaction(db_);
  for (const auto &id : device_ids)
    db_.prepare("UPDATE devices SET enabled = ? WHERE hub = ? AND device_id = ?")
        .bind(1, std::int64_t(enabled))
        .bind(2, hub)
        .bind(3, id)
        .run();
  insert_event(event);
  transaction.commit();
}

std::vector<IntermediateRule> HubRegistry::disabled_intermediates(const std::string &hub) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT subject, key_fingerprint FROM disabled_intermediates "
                           "WHERE hub = ? ORDER BY subject, key_fingerprint");
  query.bind(1, hub);
  std::vector<IntermediateRule> rules;
  while (query.step())
    rules.push_back({query.text(0), query.text(1)});
  return rules;
}

void HubRegistry::set_intermediate_rules(const std::string &hub,
                                         const std::vector<IntermediateRule> &rules,
                                         bool disabled, const EventRecord &event) {
  std::lock_guard lock(mutex_);
  flush_events_locked();
  Transaction transaction(db_);
  for (const auto &rule : rules) {
    auto statement = db_.prepare(
        disabled ? "INSERT OR IGNORE INTO disabled_intermediates (hub, subject, key_fingerprint) "
                   "VALUES (?, ?, ?)"
                 : "DELETE FROM disabled_intermediates WHERE hub = ? AND subject = ? AND "
                   "(key_fingerprint = ?3 OR ?3 = '')");
    statement.bind(1, hub).bind(2, rule.subject).bind(3, rule.key_fingerprint).run();
  }
  insert_event(event);
  transaction.commit();
}

std::optional<DeviceRecord> HubRegistry::find_device(const std::string &hub,
                                                     const std::string &device_id) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare(std::string("SELECT ") + kDeviceColumns +
                           " FROM devices WHERE hub = ? AND device_id = ?");
  query.bind(1, hub).bind(2, device_id);
  if (!query.step())
    return std::nullopt;
  return read_device(query);
}

namespace {

// selected_devices: the statement selecting |columns| of the devices
// |filter| names, its page included when |paged|.
Statement selected_devices(Database &db, const std::string &columns, const std::string &hub,
                           const DeviceQuery &filter, bool paged) {
  std::string sql = "SELECT " + columns + " FROM devices WHERE hub = ?1";
  if (!filter.ca_name.empty())
    sql += " AND ca_name = ?2";
  if (!filter.issuer_subject.empty())
    sql += " AND issuer_subject = ?3";
  if (!filter.chain_contains.empty())
    sql += " AND instr(' <- ' || chain_subjects || ' <- ', ' <- ' || ?4 || ' <- ') > 0";
  if (filter.connected_from)
    sql += " AND first_connected >= ?5";
  if (filter.connected_until)
    sql += " AND first_connected < ?6";
  if (filter.enabled)
    sql += " AND enabled = ?7";
  if (paged)
    sql += " AND device_id > ?8 ORDER BY device_id LIMIT ?9";
  auto query = db.prepare(sql);
  query.bind(1, hub).bind(2, filter.ca_name).bind(3, filter.issuer_subject)
      .bind(4, filter.chain_contains);
  bind_optional_time(query, 5, filter.connected_from);
  bind_optional_time(query, 6, filter.connected_until);
  query.bind(7, std::int64_t(filter.enabled.value_or(true)));
  if (paged) // SQLite reads a negative LIMIT as none
    query.bind(8, filter.after_device_id)
        .bind(9, filter.limit > std::size_t(INT64_MAX) ? std::int64_t(-1)
                                                        : std::int64_t(filter.limit));
  return query;
}

} // namespace

std::vector<DeviceRecord> HubRegistry::query_devices(const std::string &hub,
                                                     const DeviceQuery &filter) {
  std::lock_guard lock(mutex_);
  auto query = selected_devices(db_, kDeviceColumns, hub, filter, true);
  std::vector<DeviceRecord> devices;
  while (query.step())
    devices.push_back(read_device(query));
  return devices;
}

std::size_t HubRegistry::count_devices(const std::string &hub, const DeviceQuery &filter) {
  std::lock_guard lock(mutex_);
  auto query = selected_devices(db_, "COUNT(*)", hub, filter, false);
  return query.step() ? std::size_t(query.integer(0)) : 0;
}

bool HubRegistry::set_device_enabled(const std::string &hub, const std::string &device_id,
                                     bool enabled) {
  std::lock_guard lock(mutex_);
  db_.prepare("UPDATE devices SET enabled = ? WHERE hub = ? AND device_id = ?")
      .bind(1, std::int64_t(enabled))
      .bind(2, hub)
      .bind(3, device_id)
      .run();
  return db_.changes() == 1;
}

bool HubRegistry::approve_device(const std::string &hub, const std::string &device_id) {
  std::lock_guard lock(mutex_);
  db_.prepare("UPDATE devices SET approved = 1 WHERE hub = ? AND device_id = ?")
      .bind(1, hub)
      .bind(2, device_id)
      .run();
  return db_.changes() == 1;
}

bool HubRegistry::delete_device(const std::string &hub, const std::string &device_id) {
  std::lock_guard lock(mutex_);
  db_.prepare("DELETE FROM devices WHERE hub = ? AND device_id = ?")
      .bind(1, hub)
      .bind(2, device_id)
      .run();
  return db_.changes() == 1;
}

std::pair<long, std::string> HubRegistry::reported_properties(const std::string &hub,
                                                             const std::string &device_id) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare(
      "SELECT reported_version, reported_json FROM devices WHERE hub = ? AND device_id = ?");
  query.bind(1, hub).bind(2, device_id);
  if (!query.step())
    return {1, "{}"};
  return {long(query.integer(0)), query.text(1)};
}

void HubRegistry::set_reported_properties(const std::string &hub, const std::string &device_id,
                                          long version, const std::string &json) {
  std::lock_guard lock(mutex_);
  db_.prepare("UPDATE devices SET reported_version = ?, reported_json = ? "
              "WHERE hub = ? AND device_id = ?")
      .bind(1, std::int64_t(version))
      .bind(2, json)
      .bind(3, hub)
      .bind(4, device_id)
      .run();
}

void HubRegistry::add_telemetry(const TelemetryRecord &record) {
  std::lock_guard lock(mutex_);
  insert_telemetry(db_, record);
}

void HubRegistry::add_telemetry_durably(const TelemetryView &message,
                                        std::shared_ptr<Landing> landing, std::uint32_t ticket) {
  group_.submit_telemetry(message, std::move(landing), ticket);
}

void HubRegistry::insert_telemetry(Database &db, const TelemetryRecord &record) {
  // |record| outlives the statement, which is released at the end of this line.
  db.prepare("INSERT INTO telemetry (hub, device_id, time, topic, payload) VALUES (?, ?, ?, ?, ?)")
      .bind_unowned(1, record.hub)
      .bind_unowned(2, record.device_id)
      .bind(3, to_seconds(record.time))
      .bind_unowned(4, record.topic)
      .bind_blob_unowned(5, record.payload)
      .run();
}

std::vector<std::pair<std::int64_t, TelemetryRecord>>
HubRegistry::device_telemetry(const std::string &hub, const std::string &device_id,
                              std::int64_t after_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT id, hub, device_id, time, topic, payload FROM telemetry "
                           "WHERE hub = ? AND device_id = ? AND id > ? ORDER BY id LIMIT ?");
  // SQLite reads a negative LIMIT as none.
  std::int64_t rows = limit > std::size_t(INT64_MAX) ? -1 : std::int64_t(limit);
  query.bind(1, hub).bind(2, device_id).bind(3, after_id).bind(4, rows);
  std::vector<std::pair<std::int64_t, TelemetryRecord>> records;
  while (query.step())
    records.push_back({query.integer(0),
                       {query.text(1), query.text(2), from_seconds(query.integer(3)),
                        query.text(4), query.blob(5)}});
  return records;
}

std::vector<std::pair<std::int64_t, TelemetryRecord>>
HubRegistry::telemetry_after(const std::string &hub, std::int64_t after_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT id, hub, device_id, time, topic, payload FROM telemetry "
                           "WHERE id > ? AND hub = ? ORDER BY id LIMIT ?");
  query.bind(1, after_id).bind(2, hub).bind(3, std::int64_t(limit));
  std::vector<std::pair<std::int64_t, TelemetryRecord>> records;
  while (query.step())
    records.emplace_back(query.integer(0),
                         TelemetryRecord{query.text(1), query.text(2), from_seconds(query.integer(3)),
                                         query.text(4), query.blob(5)});
  return records;
}

std::int64_t HubRegistry::last_telemetry_id() {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare("SELECT COALESCE(MAX(id), 0) FROM telemetry");
  return query.step() ? query.integer(0) : 0;
}

std::optional<std::string> HubRegistry::device_certificate(const std::string &hub,
                                                           const std::string &thumbprint) {
  std::lock_guard lock(mutex_);
  auto query = db_.prepare(
      "SELECT certificate_der FROM device_certificates WHERE hub = ? AND thumbprint = ?");
  query.bind(1, hub).bind(2, thumbprint);
  if (!query.step())
    return std::nullopt;
  return query.blob(0);
}

} // namespace chainlab::registry
