// The devices part of the service API. Every change an operator makes is
// written, then published to the trust snapshot, then applied to live
// sessions, before the answer goes out.
#include <cstdint>

#include "core/clock.hpp"
#include "hub/api_support.hpp"
#include "hub/device_json.hpp"
#include "core/byte_reader.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "pki/policy.hpp"

namespace chainlab::hub::api {

using nlohmann::json;

json device_json(const registry::DeviceRecord &device) {
  json out = {{"deviceId", device.device_id},
              {"status", device.enabled ? (device.approved ? "enabled" : "pending") : "disabled"},
              {"registration", device.registration},
              {"ca", device.ca_name},
              {"issuer", device.issuer_subject},
              {"issuerKey", device.issuer_key},
              {"chain", device.chain_subjects},
              {"chainKeys", device.chain_keys},
              {"thumbprint", device.thumbprint}};
  if (device.first_connected)
    out["firstConnected"] = pki::format_time(*device.first_connected);
  if (device.last_connected)
    out["lastConnected"] = pki::format_time(*device.last_connected);
  return out;
}

namespace {

Result<registry::DeviceQuery> device_query(const std::string &target) {
  registry::DeviceQuery query;
  query.ca_name = query_parameter(target, "ca");
  query.issuer_subject = query_parameter(target, "issuer");
  query.chain_contains = query_parameter(target, "under");
  for (auto [name, field] : {std::pair{"from", &query.connected_from},
                             std::pair{"until", &query.connected_until}}) {
    std::string text = query_parameter(target, name);
    if (text.empty())
      continue;
    auto when = pki::parse_time(text);
    if (!when)
      return Error(Reason::malformed_request, std::string("query parameter \"") + name +
                                                  "\": expected ISO 8601 like 2026-07-01T00:00:00Z");
    *field = *when;
  }
  std::string status = query_parameter(target, "status");
  if (status == "enabled" || status == "disabled")
    query.enabled = status == "enabled";
  else if (!status.empty())
    return Error(Reason::malformed_request,
                 "query parameter \"status\": expected enabled or disabled");
  return query;
}

// device_changed publishes one device's new registration and applies it to
// its live session.
void device_changed(Call &call, const std::string &device_id) {
  call.context.trust.reload_device(call.hub, device_id);
  call.context.trust.operator_changed(call.hub);
}

std::optional<registry::DeviceRecord> find_or_answer(Call &call) {
  auto device = call.context.registry.find_device(call.hub, call.part(3));
  if (!device)
    call.respond(error_response(Error(Reason::not_found, "hub " + call.hub + " has no device \"" +
                                                             call.part(3) + "\"")));
  return device;
}

// intermediate_rules: the intermediates a group names (by subject, as the
// leaf's issuer or anywhere above it), keyed by every key seen with that
// subject among registered devices, or by |key| if given.
std::vector<registry::IntermediateRule> intermediate_rules(Call &call,
                                                           const registry::DeviceQuery &query) {
  std::string subject = query.issuer_subject.empty() ? query.chain_contains : query.issuer_subject;
  std::string key = query_parameter(call.request.target, "key");
  std::vector<registry::IntermediateRule> rules;
  if (subject.empty())
    return rules;
  if (!key.empty())
    return {{subject, key}};
  registry::DeviceQuery seen;
  seen.chain_contains = subject;
  for (const auto &device : call.context.registry.query_devices(call.hub, seen)) {
    std::vector<std::string> subjects, keys;
    for (auto [text, out] : {std::pair{&device.chain_subjects, &subjects},
                             std::pair{&device.chain_keys, &keys}})
      for (size_t start = 0; start <= text->size();) {
        size_t end = std::min(text->find(" <- ", start), text->size());
        out->push_back(text->substr(start, end - start));
        start = end + 4;
      }
    for (size_t i = 1; i < subjects.size() && i < keys.size(); ++i)
      if (subjects[i] == subject && !keys[i].empty() &&
          std::none_of(rules.begin(), rules.end(), [&](const auto &r) {
            return r.key_fingerprint == keys[i];
          }))
        rules.push_back({subject, keys[i]});
  }
  if (rules.empty())
    rules.push_back({subject, ""}); // none seen yet: the subject, with any key
  return rules;
}

} // namespace

// list_devices answers one page of the devices a query selects, by id
// ("after", "limit", then "next" and "more"); "count" is all it selects.
void list_devices(Call &call) {
  auto query = device_query(call.request.target);
  auto limit = page_limit(call.request.target); // "after" is a device id here
  if (!query || !limit)
    return call.respond(error_response(!query ? query.error() : limit.error()));
  bool certificates = query_parameter(call.request.target, "certificates") == "true";
  auto &registry = call.context.registry;
  registry::DeviceQuery page = query.value();
  page.after_device_id = query_parameter(call.request.target, "after");
  page.limit = limit.value() + 1;
  auto devices = registry.query_devices(call.hub, page);
  bool more = last_of_page(devices, limit.value());
  json list = json::array();
  for (const auto &device : devices) {
    list.push_back(device_json(device));
    if (certificates)
      if (auto der = registry.device_certificate(call.hub, device.thumbprint))
        list.back()["certificate"] = pki::base64_encode(*der);
  }
  std::string next = devices.empty() ? page.after_device_id : devices.back().device_id;
  call.respond(json_response(200, {{"devices", list},
                                   {"count", registry.count_devices(call.hub, query.value())},
                                   {"next", next},
                                   {"more", more}}));
}

// set_group_enabled: every device under a CA or an intermediate at once.
// Under an intermediate (issuer= or under=) it is also a standing rule:
// devices that intermediate signs later are refused until it is enabled.
void set_group_enabled(Call &call) {
  auto query = device_query(call.request.target);
  if (!query)
    return call.respond(error_response(query.error()));
  const auto &group = query.value();
  if (group.ca_name.empty() && group.issuer_subject.empty() && group.chain_contains.empty())
    return call.respond(error_response(
        Error(Reason::malformed_request, "query: name the group with ca, issuer or under")));
  bool enable = call.part(3) == "enable";
  auto &registry = call.context.registry;
  std::vector<std::string> changed;
  for (const auto &device : registry.query_devices(call.hub, group))
    changed.push_back(device.device_id);
  std::string verb = enable ? "enabled" : "disabled";
  auto rules = intermediate_rules(call, group);
  std::string named = group.ca_name.empty() ? "intermediate " + (rules.empty() ? std::string() : rules.front().subject)
                                            : "CA " + group.ca_name;
  registry::EventRecord event{0, call.hub, now(), "group_" + verb, "", named,
                              "an operator " + verb + " " + std::to_string(changed.size()) +
                                  " devices under " + named};
  registry.set_devices_enabled(call.hub, changed, enable, event);
  json rules_json = json::array();
  if (!rules.empty()) {
    registry.set_intermediate_rules(
        call.hub, rules, !enable,
        {0, call.hub, now(), enable ? "intermediate_enabled" : "intermediate_disabled", "", named,
         enable ? "devices that " + named + " signs are admitted again"
                : "devices that " + named + " signs later are refused too, until enabled"});
    for (const auto &rule : rules)
      rules_json.push_back({{"subject", rule.subject},
                            {"key", rule.key_fingerprint.empty() ? json("any") : json(rule.key_fingerprint)}});
    call.context.trust.reload_rules(call.hub);
  }
  for (const auto &id : changed)
    call.context.trust.reload_device(call.hub, id);
  call.context.trust.operator_changed(call.hub);
  call.respond(json_response(200, {{verb, changed}, {"intermediates", rules_json}}));
}

// register_device: the one-to-one alternative to CA authentication. With a
// thumbprint, that exact certificate authenticates the device; without, the
// identity is pre-registered for a CA whose onboarding is "pre-registered".
void register_device(Call &call) {
  const std::string &id = call.part(3);
  json body = call.request.body.empty() ? json::object() : json_body(call.request.body);
  if (!body.is_object() || (body.contains("thumbprint") && !body["thumbprint"].is_string()))
    return call.respond(error_response(Error(
        Reason::malformed_request, "request body: expected {} or {\"thumbprint\": \"<SHA-256 hex>\"}")));
  if (!pki::is_valid_device_id(id))
    return call.respond(error_response(Error(
        Reason::invalid_device_id, "device ID must be 1 to 128 of A-Z a-z 0-9 - . _ :")));
  auto &registry = call.context.registry;
  if (registry.find_device(call.hub, id))
    return call.respond(error_response(
        Error(Reason::duplicate_device, "device \"" + id + "\" already exists in hub " + call.hub)));
  std::string thumbprint = body.value("thumbprint", "");
  if (!thumbprint.empty() && pki::normalise_fingerprint(thumbprint).size() != 64)
    return call.respond(error_response(Error(
        Reason::malformed_request, "field \"thumbprint\": expected a SHA-256 fingerprint (64 hex digits)")));
  registry::DeviceRecord record;
  record.hub = call.hub;
  record.device_id = id;
  record.registration = thumbprint.empty() ? "pre-registered" : "thumbprint";
  record.thumbprint = thumbprint;
  registry.upsert_device(record);
  device_changed(call, id);
  call.respond(json_response(201, device_json(*registry.find_device(call.hub, id))));
}

void show_device(Call &call) {
  if (auto device = find_or_answer(call))
    call.respond(json_response(200, device_json(*device)));
}

void delete_device(Call &call) {
  if (!find_or_answer(call))
    return;
  call.context.registry.delete_device(call.hub, call.part(3));
  device_changed(call, call.part(3));
  call.respond(json_response(200, {{"deleted", call.part(3)}}));
}

void approve_device(Call &call) {
  if (!find_or_answer(call))
    return;
  call.context.registry.approve_device(call.hub, call.part(3));
  device_changed(call, call.part(3));
  call.respond(json_response(200, device_json(*call.context.registry.find_device(call.hub, call.part(3)))));
}

void set_device_enabled(Call &call) {
  if (!find_or_answer(call))
    return;
  call.context.registry.set_device_enabled(call.hub, call.part(3), call.part(4) == "enable");
  device_changed(call, call.part(3));
  call.respond(json_response(200, device_json(*call.context.registry.find_device(call.hub, call.part(3)))));
}

// pin_thumbprint: the operator names the certificate a device may use
// (under a "pinned" CA, the only way a device changes certificate).
void pin_thumbprint(Call &call) {
  auto device = find_or_answer(call);
  if (!device)
    return;
  json body = json_body(call.request.body);
  std::string thumbprint = body.is_object() && body.contains("thumbprint") && body["thumbprint"].is_string()
                               ? body["thumbprint"].get<std::string>()
                               : "";
  if (pki::normalise_fingerprint(thumbprint).size() != 64)
    return call.respond(error_response(Error(
        Reason::malformed_request, "field \"thumbprint\": expected a SHA-256 fingerprint (64 hex digits)")));
  device->thumbprint = thumbprint;
  call.context.registry.upsert_device(*device);
  call.context.registry.add_event({0, call.hub, now(), "certificate_changed", "", device->device_id,
                                   "an operator pinned device " + device->device_id +
                                       " to certificate " + thumbprint});
  device_changed(call, device->device_id);
  call.respond(json_response(200, device_json(*call.context.registry.find_device(call.hub, call.part(3)))));
}

void device_twin(Call &call) {
  if (!find_or_answer(call))
    return;
  auto [version, reported] = call.context.registry.reported_properties(call.hub, call.part(3));
  json document = json::parse(reported, nullptr, false);
  if (!document.is_object())
    document = json::object();
  document["$version"] = version;
  call.respond(json_response(200, {{"deviceId", call.part(3)}, {"reported", document}}));
}

// Payloads are bytes: UTF-8 text is returned as is, anything else as base64.
// device_telemetry answers one page of a device's messages after "after",
// oldest first ("next", "more"): a busy device's history is never one answer.
void device_telemetry(Call &call) {
  if (!find_or_answer(call))
    return;
  auto page = page_parameters(call.request.target);
  if (!page)
    return call.respond(error_response(page.error()));
  auto [after, limit] = page.value();
  auto records = call.context.registry.device_telemetry(call.hub, call.part(3), after, limit + 1);
  bool more = last_of_page(records, limit);
  json list = json::array();
  for (const auto &[id, record] : records) {
    json item = {{"id", id}, {"time", pki::format_time(record.time)}, {"topic", record.topic}};
    if (is_valid_utf8(record.payload)) {
      item["payload"] = record.payload;
    } else {
      item["payload"] = pki::base64_encode(record.payload);
      item["encoding"] = "base64";
    }
    list.push_back(std::move(item));
  }
  std::int64_t next = records.empty() ? after : records.back().first;
  call.respond(json_response(200, {{"telemetry", list}, {"next", next}, {"more", more}}));
}

void send_message(Call &call) {
  if (!find_or_answer(call))
    return;
  if (!call.context.cloud_to_device)
    return call.respond(error_response(Error(Reason::not_found, "this hub runs no device gateway")));
  auto queued = call.context.cloud_to_device(
      call.hub, call.part(3), query_parameter(call.request.target, "properties"), call.request.body);
  if (!queued)
    return call.respond(error_response(queued.error()));
  call.respond(json_response(202, {{"queued", true}, {"deviceId", call.part(3)}}));
}

void invoke_method(Call &call) {
  if (!find_or_answer(call))
    return;
  auto seconds = number_parameter(call.request.target, "timeout", 10, 60);
  if (!seconds || seconds.value() == 0)
    return call.respond(error_response(
        Error(Reason::malformed_request, "query parameter \"timeout\": expected whole seconds "
                                         "from 1 to 60 (10 when absent)")));
  if (!call.context.invoke_method)
    return call.respond(error_response(Error(Reason::not_found, "this hub runs no device gateway")));
  auto timeout = std::chrono::seconds(seconds.value());
  std::string device_id = call.part(3);
  call.context.invoke_method(
      call.hub, device_id, call.part(5), call.request.body.empty() ? "null" : call.request.body,
      timeout, [respond = call.respond, device_id](Result<MethodAnswer> answer) {
        if (!answer)
          return respond(error_response(answer.error()));
        respond(json_response(200, {{"status", answer.value().status},
                                    {"payload", method_payload(answer.value().payload, device_id)}}));
      });
}

} // namespace chainlab::hub::api
