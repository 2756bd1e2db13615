// hub/trust_store.hpp: publishes each named hub's TenantSnapshot. Readers
// (every TLS handshake) take the current snapshot under a short lock and
// keep it as long as they like; writers rebuild the part that changed from
// the registry and swap the whole snapshot in at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hub/tenant_snapshot.hpp"

namespace chainlab::hub {

class TrustStore {
public:
  // Loads every hub's CAs, devices and rules once.
  explicit TrustStore(registry::HubRegistry &registry);

  // snapshot: the hub's current picture (an empty one for an unknown hub).
  std::shared_ptr<const TenantSnapshot> snapshot(const std::string &hub) const;

  // Rebuild one part from the registry after it changed there.
  void reload_cas(const std::string &hub);
  void reload_device(const std::string &hub, const std::string &device_id);
  void reload_rules(const std::string &hub);

  // An operator's change should reach live sessions: the listener (the
  // device gateway) re-decides them against the new snapshot.
  using Listener = std::function<void(const std::string &hub)>;
  void set_listener(Listener listener);
  void operator_changed(const std::string &hub);

private:
  void publish(const std::string &hub, const std::function<void(TenantSnapshot &)> &change);

  registry::HubRegistry &registry_;
  std::mutex write_mutex_; // one rebuild at a time, so none is lost
  mutable std::mutex read_mutex_;
  std::map<std::string, std::shared_ptr<const TenantSnapshot>> tenants_;
  std::mutex listener_mutex_;
  Listener listener_;
};

} // namespace chainlab::hub
