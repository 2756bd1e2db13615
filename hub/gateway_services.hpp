// hub/gateway_services.hpp: what a device session does to the world: the
// registry (devices registered on first connection, telemetry, events),
// the narration, and twins. No transport here.
#pragma once

#include <future>
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
  void method_response(const DeviceIdentity &device, const std::string &request_id, int status,
                       const std::string &payload) override;

  struct MethodResult {
    int status = 0;
    std::string payload;
  };
  // expect_method_response registers a call; the future is fulfilled when
  // that device answers with that request id.
  std::future<MethodResult> expect_method_response(const std::string &hub,
                                                   const std::string &device_id,
                                                   const std::string &request_id);
  void forget_method_call(const std::string &request_id);

  // record_event notes something that is not a refusal (e.g. a duplicate
  // connection dropping the older one).
  void record_event(const std::string &hub, const std::string &kind, const std::string &reason,
                    const std::string &subject, const std::string &detail);

private:
  registry::HubRegistry &registry_;
  Narrator &narrator_;
  std::mutex twins_mutex_; // a patch reads, merges and writes: one at a time
  std::mutex calls_mutex_;
  struct PendingCall {
    std::string device_key; // hub/device: only that device may answer
    std::promise<MethodResult> result;
  };
  std::map<std::string, PendingCall> calls_; // by request id
};

} // namespace chainlab::hub
