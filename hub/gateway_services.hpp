// hub/gateway_services.hpp: what a device session does to the world: the
// registry (admission in one transaction, telemetry, events), the
// narration, twins and method calls. No transport here.
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "core/narrator.hpp"
#include "hub/device_session.hpp"
#include "hub/log_prover.hpp"
#include "hub/trust_store.hpp"
#include "registry/hub_registry.hpp"

namespace chainlab::hub {

class GatewayServices final : public SessionServices {
public:
  GatewayServices(registry::HubRegistry &registry, TrustStore &trust, Narrator &narrator)
      : registry_(registry), trust_(trust), narrator_(narrator) {}

  void admit(const DeviceIdentity &device, std::function<void(Result<bool>)> done) override;
  Result<bool> record_telemetry(const DeviceIdentity &device, std::string_view topic,
                                std::string_view payload,
                                const std::shared_ptr<registry::Landing> &landing,
                                std::uint32_t ticket) override;
  void record_refusal(const DeviceIdentity &device, const Error &error) override;
  // record_handshake_refusal: a client refused in TLS proved nothing, so a
  // flood of them is counted in memory and written in batches.
  void record_handshake_refusal(const DeviceIdentity &device, const Error &error);
  std::string twin(const DeviceIdentity &device) override;
  Result<long> patch_reported(const DeviceIdentity &device, const std::string &json) override;
  void disconnected(const DeviceIdentity &device) override;
  void method_response(const DeviceIdentity &device, const std::string &request_id, int status,
                       const std::string &payload) override;

  struct MethodResult {
    int status = 0;
    std::string payload;
  };
  using MethodDone = std::function<void(MethodResult)>;
  static constexpr std::size_t kMaxPendingCalls = 1024;
  // expect_method_response registers a call: |done| runs (on the thread
  // that delivers the answer) when that device answers with that request
  // id. False, and nothing registered, when kMaxPendingCalls are waiting.
  bool expect_method_response(const std::string &hub, const std::string &device_id,
                              const std::string &request_id, MethodDone done);
  // forget_method_call withdraws a call; true if it was still waiting (so
  // the caller, not the device, answers it).
  bool forget_method_call(const std::string &request_id);

  // record_event notes something that is not a refusal (e.g. a duplicate
  // connection dropping the older one), durably, before it returns.
  void record_event(const std::string &hub, const std::string &kind, const std::string &reason,
                    const std::string &subject, const std::string &detail);

private:
  registry::Admission admission_for(const DeviceIdentity &device) const;
  // record_admission writes an admitted device durably, then answers |done|.
  void record_admission(const DeviceIdentity &device, std::function<void(Result<bool>)> done);
  // admitted_result: what the device hears once its admission was written.
  Result<bool> admitted_result(const DeviceIdentity &device,
                               const std::vector<std::string> &narration,
                               registry::HubRegistry::Admitted admitted);

  registry::HubRegistry &registry_;
  TrustStore &trust_;
  Narrator &narrator_;
  std::mutex twins_mutex_; // a patch reads, merges and writes: one at a time
  std::mutex calls_mutex_;
  struct PendingCall {
    std::string device_key; // hub/device: only that device may answer
    MethodDone done;
  };
  std::map<std::string, PendingCall> calls_; // by request id
  LogProver logs_; // last: its worker stops before the rest goes
};

} // namespace chainlab::hub
