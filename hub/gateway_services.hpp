// hub/gateway_services.hpp: what a device session does to the world: the
// registry (devices registered on first connection, telemetry, events),
// the narration, and twins. No transport here.
#pragma once

#include <map>
#include <mutex>

#include "core/narrator.hpp"
#include "hub/device_session.hpp"
#include "registry/hub_registry.hpp"

namespace chainlab::hub {

class GatewayServices final : public SessionServices {
public:
  GatewayServices(registry::HubRegistry &registry, Narrator &narrator)
      : registry_(registry), narrator_(narrator) {}

  Result<bool> admit(const DeviceIdentity &device) override;
  void record_telemetry(const DeviceIdentity &device, const std::string &topic,
                        const std::string &payload) override;
  void record_refusal(const DeviceIdentity &device, const Error &error) override;
  std::string twin(const DeviceIdentity &device) override;
  Result<long> patch_reported(const DeviceIdentity &device, const std::string &json) override;
  void disconnected(const DeviceIdentity &device) override;

  // record_event notes something that is not a refusal (e.g. a duplicate
  // connection dropping the older one).
  void record_event(const std::string &hub, const std::string &kind, const std::string &reason,
                    const std::string &subject, const std::string &detail);

private:
  registry::HubRegistry &registry_;
  Narrator &narrator_;
  std::mutex twins_mutex_;
  std::map<std::string, std::pair<long, std::string>> reported_; // hub/device -> (version, JSON)
};

} // namespace chainlab::hub
