#include "hub/service_api.hpp"

#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "core/protocol_codes.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "pki/policy.hpp"

namespace chainlab::hub {
namespace {

using nlohmann::json;

HttpResponse json_response(int status, const json &body) {
  return HttpResponse{status, {{"Content-Type", "application/json"}}, body.dump(2) + "\n"};
}

HttpResponse error_response(const Error &error) {
  HttpResponse response =
      json_response(http_status(error.reason()),
                    {{"reason", to_string(error.reason())}, {"message", error.detail()}});
  response.headers.emplace_back("X-Chainlab-Reason", std::string(to_string(error.reason())));
  return response;
}

json ca_json(const registry::CaRecord &record) {
  json out = {{"name", record.name},
              {"subject", record.subject},
              {"thumbprint", record.thumbprint},
              {"status", record.verified ? "Verified" : "Unverified"},
              {"enabled", record.enabled},
              {"onboarding", record.onboarding},
              {"notAfter", pki::format_time(record.not_after)},
              {"created", pki::format_time(record.created_at)}};
  if (record.verified_at)
    out["verified"] = pki::format_time(*record.verified_at);
  return out;
}

json event_json(const registry::EventRecord &event) {
  return {{"id", event.id},         {"time", pki::format_time(event.time)},
          {"kind", event.kind},     {"reason", event.reason},
          {"subject", event.subject}, {"detail", event.detail}};
}

std::vector<std::string> split_path(const std::string &target) {
  std::vector<std::string> parts;
  std::string path = target.substr(0, target.find('?'));
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    if (end > start)
      parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// certificate_field reads {"certificate": ...} as PEM text or base64 DER.
Result<std::string> certificate_field(const std::string &body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("certificate") ||
      !parsed["certificate"].is_string())
    return Error(Reason::malformed_request,
                 "request body: expected a JSON object with a string field \"certificate\" "
                 "(PEM, or base64 DER)");
  std::string value = parsed["certificate"];
  if (value.find("-----BEGIN") != std::string::npos)
    return value;
  try {
    return pki::base64_decode(value, "field \"certificate\"");
  } catch (const Error &error) {
    return error;
  }
}

std::string bearer_token(const HttpRequest &request) {
  std::string authorization = request.header("Authorization");
  const std::string scheme = "Bearer ";
  return authorization.rfind(scheme, 0) == 0 ? authorization.substr(scheme.size()) : "";
}

// query_parameter returns the percent-decoded value of |name| in |target|.
std::string query_parameter(const std::string &target, const std::string &name) {
  auto question = target.find('?');
  if (question == std::string::npos)
    return "";
  std::string query = target.substr(question + 1);
  for (size_t start = 0; start <= query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string::npos)
      end = query.size();
    std::string pair = query.substr(start, end - start);
    if (pair.rfind(name + "=", 0) == 0) {
      std::string raw = pair.substr(name.size() + 1), value;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
          value += char(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          value += raw[i] == '+' ? ' ' : raw[i];
        }
      }
      return value;
    }
    start = end + 1;
  }
  return "";
}

long after_id(const std::string &target) {
  return std::atol(query_parameter(target, "after").c_str());
}

json device_json(const registry::DeviceRecord &device) {
  json out = {{"deviceId", device.device_id},
              {"status", device.enabled ? (device.approved ? "enabled" : "pending") : "disabled"},
              {"registration", device.registration},
              {"ca", device.ca_name},
              {"issuer", device.issuer_subject},
              {"chain", device.chain_subjects},
              {"thumbprint", device.thumbprint}};
  if (device.first_connected)
    out["firstConnected"] = pki::format_time(*device.first_connected);
  if (device.last_connected)
    out["lastConnected"] = pki::format_time(*device.last_connected);
  return out;
}

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

// register_device: the one-to-one alternative to CA authentication. With a
// thumbprint, that exact certificate authenticates the device; without, the
// identity is pre-registered for a CA whose onboarding is "pre-registered".
HttpResponse register_device(registry::HubRegistry &registry, const std::string &hub,
                             const std::string &id, const std::string &body_text) {
  json body = body_text.empty() ? json::object() : json::parse(body_text, nullptr, false);
  if (!body.is_object() || (body.contains("thumbprint") && !body["thumbprint"].is_string()))
    return error_response(Error(Reason::malformed_request,
                                "request body: expected {} or {\"thumbprint\": \"<SHA-256 hex>\"}"));
  if (!pki::is_valid_device_id(id))
    return error_response(Error(Reason::invalid_device_id,
                                "device ID \"" + id + "\" must be 1 to 128 of A-Z a-z 0-9 - . _ :"));
  if (registry.find_device(hub, id))
    return error_response(Error(Reason::duplicate_device,
                                "device \"" + id + "\" already exists in hub " + hub));
  std::string thumbprint = body.value("thumbprint", "");
  if (!thumbprint.empty() && pki::normalise_fingerprint(thumbprint).size() != 64)
    return error_response(Error(Reason::malformed_request,
                                "field \"thumbprint\": expected a SHA-256 fingerprint (64 hex digits)"));
  registry::DeviceRecord record;
  record.hub = hub;
  record.device_id = id;
  record.registration = thumbprint.empty() ? "pre-registered" : "thumbprint";
  record.thumbprint = thumbprint;
  registry.upsert_device(record);
  return json_response(201, device_json(*registry.find_device(hub, id)));
}

HttpResponse device_request(ServiceContext &context, const std::string &hub,
                            const HttpRequest &request, const std::vector<std::string> &parts) {
  auto &registry = context.registry;
  const std::string &method = request.method;
  if (parts.size() == 4 && method == "POST" && (parts[3] == "disable" || parts[3] == "enable")) {
    // Group management: e.g. every device under Technician-Z at once.
    auto query = device_query(request.target);
    if (!query)
      return error_response(query.error());
    if (query.value().ca_name.empty() && query.value().issuer_subject.empty() &&
        query.value().chain_contains.empty())
      return error_response(Error(Reason::malformed_request,
                                  "query: name the group with ca, issuer or under"));
    json changed = json::array();
    for (const auto &device : registry.query_devices(hub, query.value())) {
      registry.set_device_enabled(hub, device.device_id, parts[3] == "enable");
      changed.push_back(device.device_id);
    }
    return json_response(200, {{parts[3] == "enable" ? "enabled" : "disabled", changed}});
  }
  if (parts.size() == 3 && method == "GET") {
    auto query = device_query(request.target);
    if (!query)
      return error_response(query.error());
    json list = json::array();
    for (const auto &device : registry.query_devices(hub, query.value()))
      list.push_back(device_json(device));
    return json_response(200, {{"devices", list}, {"count", list.size()}});
  }
  if (parts.size() < 4)
    return error_response(Error(Reason::not_found, "unknown devices path " + request.target));
  const std::string &id = parts[3];
  if (parts.size() == 4 && method == "PUT")
    return register_device(registry, hub, id, request.body);
  auto device = registry.find_device(hub, id);
  if (!device)
    return error_response(Error(Reason::not_found, "hub " + hub + " has no device \"" + id + "\""));
  std::string action = parts.size() == 5 ? parts[4] : "";
  if (parts.size() == 4 && method == "GET")
    return json_response(200, device_json(*device));
  if (parts.size() == 4 && method == "DELETE") {
    registry.delete_device(hub, id);
    return json_response(200, {{"deleted", id}});
  }
  if (method == "POST" && action == "approve") {
    registry.approve_device(hub, id);
    return json_response(200, device_json(*registry.find_device(hub, id)));
  }
  if (method == "POST" && (action == "disable" || action == "enable")) {
    registry.set_device_enabled(hub, id, action == "enable");
    return json_response(200, device_json(*registry.find_device(hub, id)));
  }
  if (method == "GET" && action == "twin") {
    auto [version, reported] = registry.reported_properties(hub, id);
    json body = {{"deviceId", id}, {"reported", json::parse(reported, nullptr, false)}};
    body["reported"]["$version"] = version;
    return json_response(200, body);
  }
  if (method == "GET" && action == "telemetry") {
    json list = json::array();
    for (const auto &record : registry.telemetry(hub, id))
      list.push_back({{"time", pki::format_time(record.time)},
                      {"topic", record.topic},
                      {"payload", record.payload}});
    return json_response(200, {{"telemetry", list}});
  }
  if (method == "POST" && action == "messages") {
    if (!context.cloud_to_device)
      return error_response(Error(Reason::not_found, "this hub runs no device gateway"));
    context.cloud_to_device(hub, id, query_parameter(request.target, "properties"), request.body);
    return json_response(202, {{"queued", true}, {"deviceId", id}});
  }
  if (method == "POST" && parts.size() == 6 && parts[4] == "methods") {
    if (!context.invoke_method)
      return error_response(Error(Reason::not_found, "this hub runs no device gateway"));
    long seconds = std::atol(query_parameter(request.target, "timeout").c_str());
    auto timeout = std::chrono::seconds(seconds > 0 && seconds <= 60 ? seconds : 10);
    auto answer = context.invoke_method(hub, id, parts[5], request.body.empty() ? "null" : request.body,
                                        timeout);
    if (!answer)
      return error_response(answer.error());
    json payload = json::parse(answer.value().payload, nullptr, false);
    return json_response(200, {{"status", answer.value().status},
                               {"payload", payload.is_discarded() ? json(answer.value().payload)
                                                                  : payload}});
  }
  return error_response(Error(Reason::not_found, method + " " + request.target +
                                                     " is not part of the devices API"));
}

HttpResponse respond(const Result<registry::CaRecord> &result, int status = 200) {
  return result ? json_response(status, ca_json(result.value())) : error_response(result.error());
}

HttpResponse events_response(registry::HubRegistry &registry, const std::string &hub,
                             const std::string &target) {
  json list = json::array();
  std::map<std::string, int> refusals;
  for (const auto &event : registry.events(hub, after_id(target))) {
    list.push_back(event_json(event));
    if (!event.reason.empty())
      ++refusals[event.reason];
  }
  return json_response(200, {{"events", list}, {"refusalsByReason", refusals}});
}

HttpResponse certificate_request(registry::HubRegistry &registry,
                                 CaRegistration &registration, const std::string &hub,
                                 const HttpRequest &request,
                                 const std::vector<std::string> &parts) {
  const std::string &method = request.method;
  if (parts.size() == 3) {
    if (method != "GET")
      return error_response(Error(Reason::malformed_request, "certificates takes GET"));
    json list = json::array();
    for (const auto &record : registry.list_cas(hub))
      list.push_back(ca_json(record));
    return json_response(200, {{"certificates", list}});
  }
  const std::string &name = parts[3];
  if (parts.size() == 4) {
    if (method == "PUT") {
      auto bytes = certificate_field(request.body);
      if (!bytes)
        return error_response(bytes.error());
      return respond(registration.upload(hub, name, bytes.value()), 201);
    }
    if (method == "GET") {
      auto record = registry.find_ca(hub, name);
      return record ? json_response(200, ca_json(*record))
                    : error_response(Error(Reason::not_found, "no CA certificate named \"" +
                                                                  name + "\" in hub " + hub));
    }
    if (method == "DELETE") {
      auto removed = registration.remove(hub, name);
      return removed ? json_response(200, {{"deleted", name}}) : error_response(removed.error());
    }
  }
  if (parts.size() == 5 && method == "POST") {
    const std::string &action = parts[4];
    if (action == "generateVerificationCode") {
      auto result = registration.generate_verification_code(hub, name);
      if (!result)
        return error_response(result.error());
      json body = ca_json(result.value());
      body["verificationCode"] = result.value().verification_code;
      body["verificationCodeExpires"] = pki::format_time(*result.value().code_expires_at);
      return json_response(200, body);
    }
    if (action == "verify") {
      auto bytes = certificate_field(request.body);
      if (!bytes)
        return error_response(bytes.error());
      return respond(registration.verify(hub, name, bytes.value()));
    }
    if (action == "disable" || action == "enable")
      return respond(registration.set_enabled(hub, name, action == "enable"));
    if (action == "onboarding") {
      json body = json::parse(request.body, nullptr, false);
      if (!body.is_object() || !body.contains("policy") || !body["policy"].is_string())
        return error_response(Error(Reason::malformed_request,
                                    "request body: expected {\"policy\": \"first-connection\" | "
                                    "\"pre-registered\" | \"approval\"}"));
      return respond(registration.set_onboarding(hub, name, body["policy"]));
    }
  }
  return error_response(Error(Reason::not_found, method + " " + request.target +
                                                     " is not part of the certificates API"));
}

} // namespace

HttpResponse handle_service_request(ServiceContext &context, const HttpRequest &request) {
  auto &registry = context.registry;
  auto parts = split_path(request.target);
  if (parts.size() < 3 || parts[0] != "hubs")
    return error_response(Error(Reason::not_found, "unknown path " + request.target));
  const std::string &hub = parts[1];
  // Unknown hub and wrong token answer alike, so tokens reveal nothing.
  if (!registry.authorise(hub, bearer_token(request)))
    return error_response(Error(Reason::unauthorized,
                                "a valid bearer token for hub \"" + hub + "\" is required"));
  if (parts[2] == "certificates")
    return certificate_request(registry, context.registration, hub, request, parts);
  if (parts[2] == "devices")
    return device_request(context, hub, request, parts);
  if (parts[2] == "events" && parts.size() == 3 && request.method == "GET")
    return events_response(registry, hub, request.target);
  return error_response(Error(Reason::not_found, "unknown path " + request.target));
}

} // namespace chainlab::hub
