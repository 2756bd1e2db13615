#include "hub/gateway_services.hpp"

#include "core/clock.hpp"
#include "hub/device_handshake.hpp"
#include "hub/device_json.hpp"

namespace chainlab::hub {
namespace {

registry::EventRecord event(const std::string &hub, const std::string &kind,
                            const std::string &subject, const std::string &detail) {
  return {0, hub, now(), kind, "", subject, detail};
}

} // namespace

void GatewayServices::record_event(const std::string &hub, const std::string &kind,
                                   const std::string &reason, const std::string &subject,
                                   const std::string &detail) {
  // Nothing waits on these being on disk: they go in the next batch, not
  // in a commit (and an fsync) of their own on an I/O thread.
  registry_.add_event_later({0, hub, now(), kind, reason, subject, detail});
  if (reason.empty())
    narrator_.say("[" + hub + "] " + detail);
  else
    narrator_.refuse(reason, "[" + hub + "] " + detail);
}

registry::Admission GatewayServices::admission_for(const DeviceIdentity &device) const {
  using Kind = registry::Admission::Kind;
  registry::Admission admission;
  registry::DeviceRecord &record = admission.device;
  record.hub = device.hub;
  record.device_id = device.device_id;
  record.approved = device.approved;
  record.registration = "ca";
  record.ca_name = device.ca_name;
  record.issuer_subject = device.issuer_subject;
  record.issuer_key = device.issuer_key;
  record.chain_subjects = device.chain_subjects;
  record.chain_keys = device.chain_keys;
  record.thumbprint = device.thumbprint;
  record.last_connected = now();
  admission.certificate_der = device.certificate_der;
  const std::string &id = device.device_id;
  switch (device.binding) {
  case Binding::new_device:
    admission.kind = Kind::register_new;
    admission.events.push_back(event(
        device.hub, "device_registered", id,
        "device " + id + " connected for the first time and was registered: its chain " +
            device.chain_subjects + " ends at verified CA " + device.ca_name +
            " (no per-device registration needed)"));
    break;
  case Binding::bind_pre_registered:
    admission.kind = Kind::bind_pre_registered;
    admission.events.push_back(event(device.hub, "device_registered", id,
                                     "pre-registered device " + id +
                                         " connected for the first time with chain " +
                                         device.chain_subjects));
    break;
  case Binding::certificate_change:
    admission.kind = Kind::change_certificate;
    admission.expected_thumbprint = device.previous_thumbprint;
    admission.events.push_back(event(
        device.hub, "certificate_changed", id,
        "device " + id + " presented a new certificate, accepted under CA " + device.ca_name +
            "'s certificate-change policy: thumbprint " + device.previous_thumbprint + " -> " +
            device.thumbprint + "; chain " + device.previous_chain + " -> " +
            device.chain_subjects));
    [[fallthrough]];
  case Binding::same_certificate:
    if (device.binding == Binding::same_certificate)
      admission.kind = Kind::reconnect;
    admission.events.push_back(event(device.hub, "device_connected", id,
                                     "device " + id + " connected from " + device.peer_address));
    break;
  }
  return admission;
}

void GatewayServices::admit(const DeviceIdentity &device,
                            std::function<void(Result<bool>)> done) {
  if (device.refusal)
    return done(*device.refusal);
  // An operator may have acted between the handshake and CONNECT.
  auto snapshot = trust_.snapshot(device.hub);
  auto connected = connected_record(device);
  auto withdrawn = device.binding == Binding::same_certificate
                       ? still_admitted(*snapshot, connected)
                   : device.authentication == "ca" ? issuer_withdrawn(*snapshot, connected)
                                                   : std::nullopt;
  if (withdrawn)
    return done(*withdrawn);
  if (!device.required_log)
    return record_admission(device, std::move(done));
  // Onboarding "logged": the issuer's log must hold this certificate.
  auto log = device.required_log;
  logs_.check(log, device.certificate_der,
              [this, device, log, done = std::move(done)](std::optional<Error> failure) {
                if (auto refusal = judge_inclusion(device.device_id, device.issuer_subject, *log,
                                                   failure))
                  return done(*refusal);
                narrator_.check("[" + device.hub + "] " + device.issuer_subject +
                                "'s transparency log at " + log->url + " proves " +
                                device.device_id + "'s certificate is in it (signed tree head, "
                                "inclusion proof)");
                record_admission(device, done);
              });
}

void GatewayServices::record_admission(const DeviceIdentity &device,
                                       std::function<void(Result<bool>)> done) {
  auto admission = admission_for(device);
  std::vector<std::string> narration;
  for (const auto &event : admission.events)
    narration.push_back("[" + device.hub + "] " + event.detail);
  registry_.admit_device_durably(
      std::move(admission), [this, device, narration = std::move(narration),
                             done = std::move(done)](registry::HubRegistry::Admitted admitted) {
        done(admitted_result(device, narration, admitted));
      });
}

Result<bool> GatewayServices::admitted_result(const DeviceIdentity &device,
                                              const std::vector<std::string> &narration,
                                              registry::HubRegistry::Admitted admitted) {
  using Admitted = registry::HubRegistry::Admitted;
  const std::string &id = device.device_id;
  if (admitted == Admitted::conflict)
    return Error(Reason::identity_conflict,
                 "device " + id + "'s registration changed while it connected; nothing was "
                 "overwritten (connect again)");
  if (admitted == Admitted::not_written)
    return Error(Reason::storage_failed, "the connection of device " + id +
                                             " could not be recorded; nothing was acknowledged "
                                             "(connect again)");
  if (device.binding != Binding::same_certificate)
    trust_.reload_device(device.hub, id);
  for (const auto &line : narration)
    narrator_.say_soon(line);
  if (!device.approved)
    return Error(Reason::device_pending,
                 "device " + id + " is known now but awaits an operator's approval (CA " +
                     device.ca_name + " onboards by approval)");
  return true;
}

Result<bool> GatewayServices::record_telemetry(const DeviceIdentity &device,
                                               std::string_view topic, std::string_view payload,
                                               const std::shared_ptr<registry::Landing> &landing,
                                               std::uint32_t ticket) {
  auto registered = trust_.snapshot(device.hub)->devices.find(device.device_id);
  if (!registered || !registered->enabled)
    return Error(Reason::device_disabled,
                 "device " + device.device_id + " is disabled or deleted on hub " + device.hub +
                     ": its telemetry was not recorded");
  // The narration line is built in a buffer each thread keeps: one line per
  // message, no allocation per message.
  static thread_local std::string line;
  line.assign("[").append(device.hub).append("] telemetry from ").append(device.device_id);
  line.append(" (").append(std::to_string(payload.size())).append(" bytes)");
  registry_.add_telemetry_durably({device.hub, device.device_id, now(), topic, payload}, landing,
                                  ticket);
  narrator_.say_soon(line);
  return true;
}

void GatewayServices::record_refusal(const DeviceIdentity &device, const Error &error) {
  record_event(device.hub, "refused", std::string(to_string(error.reason())), device.device_id,
               error.detail());
}

void GatewayServices::record_handshake_refusal(const DeviceIdentity &device,
                                               const Error &error) {
  std::string reason(to_string(error.reason()));
  registry_.add_event_later({0, device.hub, now(), "refused", reason, device.device_id,
                             error.detail()});
  narrator_.refuse(reason, "[" + device.hub + "] " + error.detail());
}

std::string GatewayServices::twin(const DeviceIdentity &device) {
  auto [version, reported] = registry_.reported_properties(device.hub, device.device_id);
  nlohmann::json document = {{"desired", {{"$version", 1}}},
                             {"reported", nlohmann::json::parse(reported, nullptr, false)}};
  if (!document["reported"].is_object())
    document["reported"] = nlohmann::json::object();
  document["reported"]["$version"] = version;
  return dump_json(document);
}

Result<long> GatewayServices::patch_reported(const DeviceIdentity &device,
                                             const std::string &json) {
  std::lock_guard lock(twins_mutex_);
  auto [version, reported] = registry_.reported_properties(device.hub, device.device_id);
  auto merged = merge_reported(reported, json, device.device_id);
  if (!merged)
    return merged.error();
  registry_.set_reported_properties(device.hub, device.device_id, version + 1, merged.value());
  return version + 1;
}

void GatewayServices::disconnected(const DeviceIdentity &device) {
  std::string detail = "device " + device.device_id + " disconnected";
  narrator_.say_soon("[" + device.hub + "] " + detail);
  registry_.add_event_later(
      {0, device.hub, now(), "device_disconnected", "", device.device_id, std::move(detail)});
}

bool GatewayServices::expect_method_response(const std::string &hub, const std::string &device_id,
                                             const std::string &request_id, MethodDone done) {
  std::lock_guard lock(calls_mutex_);
  if (calls_.size() >= kMaxPendingCalls)
    return false;
  calls_[request_id] = {hub + "/" + device_id, std::move(done)};
  return true;
}

bool GatewayServices::forget_method_call(const std::string &request_id) {
  std::lock_guard lock(calls_mutex_);
  return calls_.erase(request_id) == 1;
}

void GatewayServices::method_response(const DeviceIdentity &device, const std::string &request_id,
                                      int status, const std::string &payload) {
  MethodDone done;
  {
    std::lock_guard lock(calls_mutex_);
    auto found = calls_.find(request_id);
    if (found == calls_.end() || found->second.device_key != device.hub + "/" + device.device_id)
      return; // late, or not this device's call: nothing waits for it
    done = std::move(found->second.done);
    calls_.erase(found);
  }
  narrator_.say("[" + device.hub + "] " + device.device_id + " answered method call " +
                request_id + " with status " + std::to_string(status));
  done({status, payload});
}

} // namespace chainlab::hub
