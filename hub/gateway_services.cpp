#include "hub/gateway_services.hpp"

#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace chainlab::hub {

void GatewayServices::record_event(const std::string &hub, const std::string &kind,
                                   const std::string &reason, const std::string &subject,
                                   const std::string &detail) {
  registry_.add_event({0, hub, now(), kind, reason, subject, detail});
  if (reason.empty())
    narrator_.say("[" + hub + "] " + detail);
  else
    narrator_.refuse(reason, "[" + hub + "] " + detail);
}

Result<bool> GatewayServices::admit(const DeviceIdentity &device) {
  const std::string &id = device.device_id;
  auto existing = registry_.find_device(device.hub, id);
  if (existing && !existing->enabled)
    return Error(Reason::device_disabled, "device " + id + " is disabled on hub " + device.hub);
  bool by_ca = device.authentication == "ca";
  if (by_ca && device.onboarding == "pre-registered" && !existing)
    return Error(Reason::device_not_registered,
                 "CA " + device.ca_name + " admits only pre-registered devices, and " + id +
                     " was never registered on hub " + device.hub);
  registry::DeviceRecord record;
  record.hub = device.hub;
  record.device_id = id;
  record.enabled = true;
  record.approved = existing ? existing->approved : !(by_ca && device.onboarding == "approval");
  record.registration = existing ? existing->registration : "ca";
  record.ca_name = device.ca_name;
  record.issuer_subject = device.issuer_subject;
  record.chain_subjects = device.chain_subjects;
  record.thumbprint = device.thumbprint;
  record.first_connected = now();
  record.last_connected = now();
  registry_.upsert_device(record);
  if (!record.approved) {
    return Error(Reason::device_pending,
                 "device " + id + " is known now but awaits an operator's approval (CA " +
                     device.ca_name + " onboards by approval)");
  }
  if (existing)
    record_event(device.hub, "device_connected", "", id,
                 "device " + id + " connected from " + device.peer_address);
  else
    record_event(device.hub, "device_registered", "", id,
                 "device " + id + " connected for the first time and was registered: its chain " +
                     device.chain_subjects + " ends at verified CA " + device.ca_name +
                     " (no per-device registration needed)");
  return true;
}

void GatewayServices::record_telemetry(const DeviceIdentity &device, const std::string &topic,
                                       const std::string &payload) {
  registry_.add_telemetry({device.hub, device.device_id, now(), topic, payload});
  narrator_.say("[" + device.hub + "] telemetry from " + device.device_id + ": " +
                payload.substr(0, 120));
}

void GatewayServices::record_refusal(const DeviceIdentity &device, const Error &error) {
  record_event(device.hub, "refused", std::string(to_string(error.reason())),
               device.device_id, error.detail());
}

std::string GatewayServices::twin(const DeviceIdentity &device) {
  auto [version, reported] = registry_.reported_properties(device.hub, device.device_id);
  nlohmann::json document = {{"desired", {{"$version", 1}}},
                             {"reported", nlohmann::json::parse(reported, nullptr, false)}};
  if (!document["reported"].is_object())
    document["reported"] = nlohmann::json::object();
  document["reported"]["$version"] = version;
  return document.dump();
}

Result<long> GatewayServices::patch_reported(const DeviceIdentity &device,
                                             const std::string &json) {
  auto patch = nlohmann::json::parse(json, nullptr, false);
  if (patch.is_discarded() || !patch.is_object())
    return Error(Reason::malformed_request,
                 "reported-properties patch from " + device.device_id + " is not a JSON object");
  std::lock_guard lock(twins_mutex_);
  auto [version, reported] = registry_.reported_properties(device.hub, device.device_id);
  auto current = nlohmann::json::parse(reported, nullptr, false);
  if (!current.is_object())
    current = nlohmann::json::object();
  current.merge_patch(patch);
  registry_.set_reported_properties(device.hub, device.device_id, version + 1, current.dump());
  return version + 1;
}

void GatewayServices::disconnected(const DeviceIdentity &device) {
  record_event(device.hub, "device_disconnected", "", device.device_id,
               "device " + device.device_id + " disconnected");
}

std::future<GatewayServices::MethodResult>
GatewayServices::expect_method_response(const std::string &hub, const std::string &device_id,
                                        const std::string &request_id) {
  std::lock_guard lock(calls_mutex_);
  auto &call = calls_[request_id];
  call.device_key = hub + "/" + device_id;
  return call.result.get_future();
}

void GatewayServices::forget_method_call(const std::string &request_id) {
  std::lock_guard lock(calls_mutex_);
  calls_.erase(request_id);
}

void GatewayServices::method_response(const DeviceIdentity &device, const std::string &request_id,
                                      int status, const std::string &payload) {
  std::lock_guard lock(calls_mutex_);
  auto found = calls_.find(request_id);
  if (found == calls_.end() || found->second.device_key != device.hub + "/" + device.device_id)
    return; // late, or not this device's call: nothing waits for it
  found->second.result.set_value({status, payload});
  calls_.erase(found);
  narrator_.say("[" + device.hub + "] " + device.device_id + " answered method call " +
                request_id + " with status " + std::to_string(status));
}

} // namespace chainlab::hub
