// registry/hub_registry.hpp: what a hub service remembers, in one SQLite
// file (WAL, synchronous=FULL): its tenants (named hubs), each hub's CA
// certificates and their proof-of-possession state, and every event.
// A row is written before the API acknowledges, so a killed hub restarts
// with everything it acknowledged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/group_commit.hpp"
#include "registry/sqlite.hpp"

namespace chainlab::registry {

using TimePoint = std::chrono::system_clock::time_point;

struct CaRecord {
  std::string hub;
  std::string name;        // the owner's name for it, unique per hub
  std::string certificate_pem;
  std::string subject;
  std::string thumbprint;  // SHA-256 fingerprint
  bool verified = false;
  bool enabled = true;
  TimePoint not_after;
  TimePoint created_at;
  std::optional<TimePoint> verified_at;
  // The current proof-of-possession challenge, if one was generated.
  std::string verification_code;
  std::optional<TimePoint> code_expires_at;
  bool code_used = false;
  // How devices under this CA are admitted: "first-connection" (register
  // on first connection, the default), "pre-registered" (the identity must
  // exist, as Azure IoT Hub without DPS) or "approval" (pending until an
  // operator approves it, as AWS JITR).
  std::string onboarding = "first-connection";
  // What a known device may do with a different certificate: "any" (accept,
  // as Azure IoT Hub does), "same-issuer" (renewal by the same issuing CA;
  // the default) or "pinned" (only the registered thumbprint).
  std::string certificate_change = "same-issuer";
  // Under onboarding "logged": the transparency logs of the CAs that sign
  // devices, as a JSON array of {"url", "certificate"} (the CA's PEM).
  std::string logs = "[]";
};

struct DeviceRecord {
  std::string hub;
  std::string device_id;
  bool enabled = true;
  bool approved = true;       // false while pending under an "approval" CA
  std::string registration;   // "ca", "pre-registered" or "thumbprint"
  std::string ca_name;        // the registered CA its chain ends at
  std::string issuer_subject; // the CA that signed it, e.g. CN=Technician-Z
  std::string chain_subjects; // leaf first, " <- " separated
  std::string thumbprint;     // SHA-256 of its certificate
  std::string issuer_key;     // SHA-256 of the issuing CA's public key (SPKI)
  std::string chain_keys;     // SPKI SHA-256 of each certificate, as chain_subjects
  std::optional<TimePoint> first_connected;
  std::optional<TimePoint> last_connected;
};

// IntermediateRule: a standing "disabled" rule for every device an
// intermediate signs, keyed by its subject and its public key (SPKI SHA-256;
// "" when no certificate with that subject was seen yet: then any key).
struct IntermediateRule {
  std::string subject;
  std::string key_fingerprint;
};

struct DeviceQuery {
  std::string ca_name;        // "" = any
  std::string issuer_subject; // "" = any: devices signed directly by it
  std::string chain_contains; // "" = any: devices with this CA anywhere above
  std::optional<TimePoint> connected_from, connected_until; // first connection
  std::optional<bool> enabled;
  // A page: devices whose id sorts after |after_device_id|, at most |limit|.
  std::string after_device_id;
  std::size_t limit = SIZE_MAX;
};

struct EventRecord {
  std::int64_t id = 0;
  std::string hub;
  TimePoint time;
  std::string kind;    // "ca_uploaded", "ca_verified", "refused", ...
  std::string reason;  // a reason code for refusals, else ""
  std::string subject; // the certificate or device concerned
  std::string detail;
};

// Admission is what one accepted device connection writes, in one
// transaction with its events. Operator-owned fields (enabled, approved,
// registration) are written only when the row is created.
struct Admission {
  enum class Kind { register_new, reconnect, bind_pre_registered, change_certificate };
  Kind kind = Kind::reconnect;
  DeviceRecord device;
  // For bind and change: the thumbprint the row must still hold, so a
  // concurrent change by someone else is not overwritten.
  std::string expected_thumbprint;
  std::vector<EventRecord> events;
  // The certificate the device presented (DER), kept for auditors when it
  // is new to the hub; empty on a reconnection.
  std::string certificate_der;
};

class HubRegistry {
public:
  explicit HubRegistry(const std::string &path);
  ~HubRegistry(); // writes the events still waiting

  // create_hub stores a tenant and returns its new bearer token (only its
  // hash is kept). Throws Error(config_invalid) if the name is taken.
  std::string create_hub(const std::string &hub);
  bool hub_exists(const std::string &hub);
  std::vector<std::string> hub_names();
  // authorise checks a bearer token against |hub|'s.
  bool authorise(const std::string &hub, const std::string &token);

  // CA changes are written with their event, in one transaction.
  void add_ca(const CaRecord &record, const EventRecord &event);
  std::optional<CaRecord> find_ca(const std::string &hub, const std::string &name);
  std::optional<CaRecord> find_ca_by_thumbprint(const std::string &hub,
                                                const std::string &thumbprint);
  std::vector<CaRecord> list_cas(const std::string &hub);
  // update_ca rewrites the mutable state of |record| (status, code, enabled).
  void update_ca(const CaRecord &record, const EventRecord &event);
  bool delete_ca(const std::string &hub, const std::string &name, const EventRecord &event);

  // upsert_device stores |record|, keeping first_connected if already set.
  void upsert_device(const DeviceRecord &record);
  // admit_device writes |admission|; false if the row was not as expected
  // (registered, changed or deleted meanwhile), and nothing was written.
  bool admit_device(const Admission &admission);
  // admit_device_durably writes |admission| in the next group commit;
  // |done| then hears, on the committer thread, how it went.
  enum class Admitted { yes, conflict, not_written };
  void admit_device_durably(Admission admission, std::function<void(Admitted)> done);
  // flush_group_commit returns once every durable write submitted so far is
  // committed and its callback has run.
  void flush_group_commit() { group_.flush(); }
  // set_devices_enabled changes many devices and records |event|, at once.
  void set_devices_enabled(const std::string &hub, const std::vector<std::string> &device_ids,
                           bool enabled, const EventRecord &event);

  // Standing rules on intermediates (group disable), with their event.
  std::vector<IntermediateRule> disabled_intermediates(const std::string &hub);
  void set_intermediate_rules(const std::string &hub, const std::vector<IntermediateRule> &rules,
                              bool disabled, const EventRecord &event);
  std::optional<DeviceRecord> find_device(const std::string &hub, const std::string &device_id);
  // query_devices: the devices |query| selects, ordered by id (one page of
  // them if it asks for one); count_devices: how many it selects, pages aside.
  std::vector<DeviceRecord> query_devices(const std::string &hub, const DeviceQuery &query);
  std::size_t count_devices(const std::string &hub, const DeviceQuery &query);
  // device_certificate: the certificate (DER) a device with this thumbprint
  // was admitted with, if the hub kept it.
  std::optional<std::string> device_certificate(const std::string &hub,
                                                const std::string &thumbprint);
  bool set_device_enabled(const std::string &hub, const std::string &device_id, bool enabled);
  bool approve_device(const std::string &hub, const std::string &device_id);
  bool delete_device(const std::string &hub, const std::string &device_id);

  // The device twin's reported properties (a JSON object) and version.
  std::pair<long, std::string> reported_properties(const std::string &hub,
                                                   const std::string &device_id);
  void set_reported_properties(const std::string &hub, const std::string &device_id,
                               long version, const std::string &json);

  void add_telemetry(const TelemetryRecord &record);
  // add_telemetry_durably queues |message| (copied) for the next group
  // commit; |landing| hears |ticket|, on the committer thread, once it is on
  // disk (or could not be written).
  void add_telemetry_durably(const TelemetryView &message, std::shared_ptr<Landing> landing,
                             std::uint32_t ticket);
  // device_telemetry: |device_id|'s messages after |after_id|, oldest first,
  // at most |limit|, each with its id.
  std::vector<std::pair<std::int64_t, TelemetryRecord>>
  device_telemetry(const std::string &hub, const std::string &device_id, std::int64_t after_id,
                   std::size_t limit);
  // telemetry_after: |hub|'s messages after id |after_id|, oldest first,
  // at most |limit|, each with its id (the live page's cursor).
  std::vector<std::pair<std::int64_t, TelemetryRecord>>
  telemetry_after(const std::string &hub, std::int64_t after_id, std::size_t limit);
  // last_telemetry_id: the newest message's id in any hub (0 if none).
  std::int64_t last_telemetry_id();

  std::int64_t add_event(const EventRecord &event);
  // add_event_later queues |event| (a refusal, a disconnection: nothing
  // was acknowledged to anyone) for the next batch, so a flood costs one
  // commit per batch, not one per attempt. Reading events
  // flushes first. At most kMaxDeferredEvents wait; past that they are
  // counted and the count is written instead.
  void add_event_later(EventRecord event);
  void flush_events();
  // events: |hub|'s events after |after_id|, oldest first, at most |limit|.
  std::vector<EventRecord> events(const std::string &hub, std::int64_t after_id = 0,
                                  std::size_t limit = SIZE_MAX);
  // refusal_counts: how many of |hub|'s events after |after_id| and up to
  // |up_to_id| carry each reason, counted by SQLite: no reader has to read
  // a long history to count it.
  std::map<std::string, long> refusal_counts(const std::string &hub, std::int64_t up_to_id,
                                             std::int64_t after_id = 0);
  // last_event_id: the newest event's id in |hub| (0 if none).
  std::int64_t last_event_id(const std::string &hub);
  // set_event_retention keeps at most |events_per_hub| events per hub (0 =
  // keep all); the oldest go first, when a batch is written.
  void set_event_retention(std::size_t events_per_hub);

  static constexpr std::size_t kMaxDeferredEvents = 10000;

private:
  void insert_event(const EventRecord &event);
  static void insert_telemetry(Database &db, const TelemetryRecord &record);
  void flush_events_locked();
  void write_deferred_events_locked(); // inside a caller's transaction
  bool write_admission_locked(const Admission &admission);
  void apply_retention_locked(const std::string &hub);

  std::mutex mutex_; // the device gateway calls in from every core
  Database db_;
  std::vector<EventRecord> deferred_;
  std::size_t dropped_ = 0;
  std::size_t retention_ = 0;
  GroupCommit group_{db_, mutex_}; // last: it stops before the database closes
};

} // namespace chainlab::registry
