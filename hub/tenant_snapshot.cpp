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
  auto empty = std::make_shared<Group>();
  empty->fill(std::make_shared<const Shard>());
  groups_.fill(std::move(empty));
}

DeviceTable DeviceTable::from(std::vector<registry::DeviceRecord> devices) {
  std::vector<Shard> built(kGroups * kShardsPerGroup);
  DeviceTable table;
  for (auto &record : devices) {
    Place place = place_of(record.device_id);
    std::string id = record.device_id;
    auto &slot = built[place.group * kShardsPerGroup + place.shard][id];
    table.size_ += slot ? 0 : 1;
    slot = std::make_shared<const registry::DeviceRecord>(std::move(record));
  }
  auto empty = (*table.groups_[0])[0]; // every shard of a new table is this one
  for (std::size_t group = 0; group < kGroups; ++group) {
    auto filled = std::make_shared<Group>();
    for (std::size_t shard = 0; shard < kShardsPerGroup; ++shard) {
      Shard &entries = built[group * kShardsPerGroup + shard];
      (*filled)[shard] =
          entries.empty() ? empty : std::make_shared<const Shard>(std::move(entries));
    }
    table.groups_[group] = std::move(filled);
  }
  return table;
}

DeviceTable::Place DeviceTable::place_of(const std::string &device_id) {
  std::size_t hash = std::hash<std::string>{}(device_id);
  return {hash % kGroups, (hash / kGroups) % kShardsPerGroup};
}

std::shared_ptr<const registry::DeviceRecord>
DeviceTable::find(const std::string &device_id) const {
  const Shard &shard = shard_at(place_of(device_id));
  auto found = shard.find(device_id);
  return found == shard.end() ? nullptr : found->second;
}

DeviceTable DeviceTable::replaced(Place place, std::shared_ptr<const Shard> shard) const {
  DeviceTable next = *this;
  auto group = std::make_shared<Group>(*groups_[place.group]);
  (*group)[place.shard] = std::move(shard);
  next.groups_[place.group] = std::move(group);
  return next;
}

DeviceTable DeviceTable::with(registry::DeviceRecord record) const {
  Place place = place_of(record.device_id);
  auto shard = std::make_shared<Shard>(shard_at(place));
  std::string id = record.device_id;
  auto &slot = (*shard)[id];
  bool added = slot == nullptr;
  slot = std::make_shared<const registry::DeviceRecord>(std::move(record));
  DeviceTable next = replaced(place, std::move(shard));
  next.size_ += added ? 1 : 0;
  return next;
}

DeviceTable DeviceTable::without(const std::string &device_id) const {
  Place place = place_of(device_id);
  if (!shard_at(place).count(device_id))
    return *this;
  auto shard = std::make_shared<Shard>(shard_at(place));
  shard->erase(device_id);
  DeviceTable next = replaced(place, std::move(shard));
  --next.size_;
  return next;
}

} // namespace chainlab::hub
