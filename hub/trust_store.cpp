#include "hub/trust_store.hpp"

namespace chainlab::hub {

TrustStore::TrustStore(registry::HubRegistry &registry) : registry_(registry) {
  for (const auto &hub : registry_.hub_names()) {
    auto snapshot = std::make_shared<TenantSnapshot>();
    snapshot->hub = hub;
    snapshot->cas = CaTrust::from(registry_.list_cas(hub));
    snapshot->devices = DeviceTable::from(registry_.query_devices(hub, {}));
    snapshot->disabled_intermediates = registry_.disabled_intermediates(hub);
    tenants_[hub] = std::move(snapshot);
  }
}

std::shared_ptr<const TenantSnapshot> TrustStore::snapshot(const std::string &hub) const {
  std::lock_guard lock(read_mutex_);
  auto found = tenants_.find(hub);
  if (found != tenants_.end())
    return found->second;
  static const auto empty = [] {
    auto snapshot = std::make_shared<TenantSnapshot>();
    snapshot->cas = CaTrust::from({});
    return std::shared_ptr<const TenantSnapshot>(std::move(snapshot));
  }();
  return empty;
}

void TrustStore::publish(const std::string &hub,
                         const std::function<void(TenantSnapshot &)> &change) {
  std::lock_guard write(write_mutex_);
  auto next = std::make_shared<TenantSnapshot>(*snapshot(hub));
  next->hub = hub;
  change(*next);
  std::lock_guard read(read_mutex_);
  tenants_[hub] = std::move(next);
}

void TrustStore::reload_cas(const std::string &hub) {
  publish(hub, [&](TenantSnapshot &next) { next.cas = CaTrust::from(registry_.list_cas(hub)); });
}

void TrustStore::reload_device(const std::string &hub, const std::string &device_id) {
  publish(hub, [&](TenantSnapshot &next) {
    auto device = registry_.find_device(hub, device_id);
    next.devices = device ? next.devices.with(std::move(*device)) : next.devices.without(device_id);
  });
}

void TrustStore::reload_rules(const std::string &hub) {
  publish(hub, [&](TenantSnapshot &next) {
    next.disabled_intermediates = registry_.disabled_intermediates(hub);
  });
}

void TrustStore::set_listener(Listener listener) {
  std::lock_guard lock(listener_mutex_);
  listener_ = std::move(listener);
}

void TrustStore::operator_changed(const std::string &hub) {
  Listener listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener = listener_;
  }
  if (listener)
    listener(hub);
}

} // namespace chainlab::hub
