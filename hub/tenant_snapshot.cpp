#include "hub/tenant_snapshot.hpp"

#include <functional>

#include <nlohmann/json.hpp>

#include "pki/inspect.hpp"

namespace chainlab::hub {

std::shared_ptr<const CaTrust> CaTrust::from(const std::vector<registry::CaRecord> &records) {
  auto trust = std::make_shared<CaTrust>();
  for (const auto &record : records) {
    // A stored CA that no longer parses cannot anchor anything; the API
    // refused such uploads, so this is a damaged row, skipped, not fatal.
    ossl::Ptr<X509> certificate;
    try {
      certificate = pki::parse_certificate(record.certificate_pem, "CA " + record.name);
    } catch (const Error &) {
      continue;
    }
    trust->anchors.push_back(
        {record.name, std::move(certificate), record.verified, record.enabled});
    trust->policies[record.name] = {record.verified, record.enabled, record.onboarding,
                                    record.certificate_change,
                                    parse_log_registrations(record.logs)};
  }
  trust->generation = pki::ChainValidator::generation_of(trust->anchors);
  return trust;
}

std::vector<std::shared_ptr<const LogRegistration>> parse_log_registrations(const std::string &text) {
  std::vector<std::shared_ptr<const LogRegistration>> logs;
  auto list = nlohmann::json::parse(text, nullptr, false);
  if (!list.is_array())
    return logs;
  for (const auto &item : list) {
    if (!item.is_object() || !item.contains("url") || !item["url"].is_string() ||
        !item.contains("certificate") || !item["certificate"].is_string())
      continue;
    auto log = std::make_shared<LogRegistration>();
    try {
      log->certificate = pki::parse_certificate(item["certificate"].get<std::string>(), "log");
    } catch (const Error &) {
      continue;
    }
    log->url = item["url"].get<std::string>();
    log->subject = pki::subject_text(log->certificate.get());
    log->key_fingerprint = pki::key_fingerprint(log->certificate.get());
    logs.push_back(std::move(log));
  }
  return logs;
}

DeviceTable::DeviceTable() {
  auto empty = std::make_shared<const Shard>();
  shards_.fill(empty);
}

std::size_t DeviceTable::shard_of(const std::string &device_id) {
  return std::hash<std::string>{}(device_id) % kShards;
}

std::shared_ptr<const registry::DeviceRecord>
DeviceTable::find(const std::string &device_id) const {
  const Shard &shard = *shards_[shard_of(device_id)];
  auto found = shard.find(device_id);
  return found == shard.end() ? nullptr : found->second;
}

DeviceTable DeviceTable::with(registry::DeviceRecord record) const {
  DeviceTable next = *this;
  auto &slot = next.shards_[shard_of(record.device_id)];
  auto shard = std::make_shared<Shard>(*slot);
  std::string id = record.device_id;
  (*shard)[id] = std::make_shared<const registry::DeviceRecord>(std::move(record));
  slot = std::move(shard);
  return next;
}

DeviceTable DeviceTable::without(const std::string &device_id) const {
  DeviceTable next = *this;
  auto &slot = next.shards_[shard_of(device_id)];
  if (slot->count(device_id)) {
    auto shard = std::make_shared<Shard>(*slot);
    shard->erase(device_id);
    slot = std::move(shard);
  }
  return next;
}

std::size_t DeviceTable::size() const {
  std::size_t total = 0;
  for (const auto &shard : shards_)
    total += shard->size();
  return total;
}

} // namespace chainlab::hub
