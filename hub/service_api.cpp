#include "hub/service_api.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <future>
#include <map>

#include "core/protocol_codes.hpp"
#include "hub/api_support.hpp"
#include "hub/dashboard.hpp"
#include "hub/device_json.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"

namespace chainlab::hub {
namespace api {

using nlohmann::json;

HttpResponse json_response(int status, const json &body) {
  return HttpResponse{status, {{"Content-Type", "application/json"}}, dump_json(body, 2) + "\n"};
}

HttpResponse error_response(const Error &error) {
  HttpResponse response =
      json_response(http_status(error.reason()),
                    {{"reason", to_string(error.reason())}, {"message", error.detail()}});
  response.headers.emplace_back("X-Chainlab-Reason", std::string(to_string(error.reason())));
  return response;
}

json json_body(const std::string &body) {
  if (json_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    return json(json::value_t::discarded);
  return json::parse(body, nullptr, false);
}

json ca_json(const registry::CaRecord &record) {
  json out = {{"name", record.name},
              {"subject", record.subject},
              {"thumbprint", record.thumbprint},
              {"status", record.verified ? "Verified" : "Unverified"},
              {"enabled", record.enabled},
              {"onboarding", record.onboarding},
              {"certificateChange", record.certificate_change},
              {"logs", json::array()},
              {"notAfter", pki::format_time(record.not_after)},
              {"created", pki::format_time(record.created_at)}};
  if (record.verified_at)
    out["verified"] = pki::format_time(*record.verified_at);
  for (const auto &log : parse_log_registrations(record.logs))
    out["logs"].push_back({{"url", log->url}, {"subject", log->subject}});
  return out;
}

Result<std::size_t> page_limit(const std::string &target) {
  auto limit = number_parameter(target, "limit", kMostPerPage, kMostPerPage);
  if (!limit)
    return limit.error();
  return std::size_t(limit.value());
}

Result<Page> page_parameters(const std::string &target) {
  auto after = number_parameter(target, "after", 0, INT64_MAX);
  if (!after)
    return after.error();
  auto limit = page_limit(target);
  if (!limit)
    return limit.error();
  return Page{after.value(), limit.value()};
}

namespace {

// certificate_field reads {"certificate": ...} as PEM text or base64 DER.
Result<std::string> certificate_field(const std::string &body) {
  json parsed = json_body(body);
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

// answer_ca answers a CA operation; a change is published to the trust
// snapshot and reaches live sessions before the operator hears of it.
void answer_ca(Call &call, const Result<registry::CaRecord> &result, int status = 200,
               bool changes_trust = true) {
  if (!result)
    return call.respond(error_response(result.error()));
  if (changes_trust) {
    call.context.trust.reload_cas(call.hub);
    call.context.trust.operator_changed(call.hub);
  }
  call.respond(json_response(status, ca_json(result.value())));
}

void list_cas(Call &call) {
  json list = json::array();
  for (const auto &record : call.context.registry.list_cas(call.hub))
    list.push_back(ca_json(record));
  call.respond(json_response(200, {{"certificates", list}}));
}

void upload_ca(Call &call) {
  auto bytes = certificate_field(call.request.body);
  if (!bytes)
    return call.respond(error_response(bytes.error()));
  answer_ca(call, call.context.registration.upload(call.hub, call.part(3), bytes.value()), 201);
}

void show_ca(Call &call) {
  auto record = call.context.registry.find_ca(call.hub, call.part(3));
  call.respond(record ? json_response(200, ca_json(*record))
                      : error_response(Error(Reason::not_found, "no CA certificate named \"" +
                                                                    call.part(3) + "\" in hub " +
                                                                    call.hub)));
}

void delete_ca(Call &call) {
  auto removed = call.context.registration.remove(call.hub, call.part(3));
  if (!removed)
    return call.respond(error_response(removed.error()));
  call.context.trust.reload_cas(call.hub);
  call.context.trust.operator_changed(call.hub);
  call.respond(json_response(200, {{"deleted", call.part(3)}}));
}

void generate_code(Call &call) {
  auto result = call.context.registration.generate_verification_code(call.hub, call.part(3));
  if (!result)
    return call.respond(error_response(result.error()));
  json body = ca_json(result.value());
  body["verificationCode"] = result.value().verification_code;
  body["verificationCodeExpires"] = pki::format_time(*result.value().code_expires_at);
  call.respond(json_response(200, body));
}

void verify_ca(Call &call) {
  auto bytes = certificate_field(call.request.body);
  if (!bytes)
    return call.respond(error_response(bytes.error()));
  answer_ca(call, call.context.registration.verify(call.hub, call.part(3), bytes.value()));
}

void set_ca_enabled(Call &call) {
  answer_ca(call, call.context.registration.set_enabled(call.hub, call.part(3),
                                                        call.part(4) == "enable"));
}

// policy_field reads {"policy": "..."}; empty when absent or not a string.
std::string policy_field(const std::string &body) {
  json parsed = json_body(body);
  return parsed.is_object() && parsed.contains("policy") && parsed["policy"].is_string()
             ? parsed["policy"].get<std::string>()
             : "";
}

void set_onboarding(Call &call) {
  std::string policy = policy_field(call.request.body);
  if (policy.empty())
    return call.respond(error_response(
        Error(Reason::malformed_request, "request body: expected {\"policy\": \"first-connection\" "
                                         "| \"pre-registered\" | \"approval\"} or "
                                         "{\"policy\": \"logged\", \"logs\": [...]}")));
  json body = json_body(call.request.body);
  answer_ca(call, call.context.registration.set_onboarding(call.hub, call.part(3), policy,
                                                           body.value("logs", json())));
}

void set_certificate_change(Call &call) {
  std::string policy = policy_field(call.request.body);
  if (policy.empty())
    return call.respond(error_response(Error(
        Reason::malformed_request,
        "request body: expected {\"policy\": \"any\" | \"same-issuer\" | \"pinned\"}")));
  answer_ca(call,
            call.context.registration.set_certificate_change(call.hub, call.part(3), policy));
}

json event_json(const registry::EventRecord &event) {
  return {{"id", event.id},
          {"time", pki::format_time(event.time)},
          {"kind", event.kind},
          {"reason", event.reason},
          {"subject", event.subject},
          {"detail", event.detail}};
}

// list_events answers one page of the hub's history after "after", oldest
// first: a long history is read page by page ("more", "next"), never built
// whole into one answer. Refusals are counted by SQLite over everything
// after "after", up to "lastEventId".
void list_events(Call &call) {
  auto page = page_parameters(call.request.target);
  if (!page)
    return call.respond(error_response(page.error()));
  auto [after, limit] = page.value();
  auto &registry = call.context.registry;
  std::int64_t newest = registry.last_event_id(call.hub), next = after;
  json list = json::array();
  for (const auto &event : registry.events(call.hub, next, limit)) {
    if (event.id > newest) // written after |newest| was read: the next page's
      break;
    list.push_back(event_json(event));
    next = event.id;
  }
  call.respond(json_response(
      200, {{"events", list},
            {"refusalsByReason", registry.refusal_counts(call.hub, newest, after)},
            {"lastEventId", newest},
            {"next", next},
            {"more", next < newest}}));
}

// A route: method and path shape after /hubs/{hub}/ ("*" matches any one
// segment); the first match answers.
struct Route {
  const char *method;
  std::vector<std::string> shape;
  void (*handle)(Call &);
};

const std::vector<Route> &routes() {
  static const std::vector<Route> table = {
      {"GET", {"certificates"}, list_cas},
      {"PUT", {"certificates", "*"}, upload_ca},
      {"GET", {"certificates", "*"}, show_ca},
      {"DELETE", {"certificates", "*"}, delete_ca},
      {"POST", {"certificates", "*", "generateVerificationCode"}, generate_code},
      {"POST", {"certificates", "*", "verify"}, verify_ca},
      {"POST", {"certificates", "*", "disable"}, set_ca_enabled},
      {"POST", {"certificates", "*", "enable"}, set_ca_enabled},
      {"POST", {"certificates", "*", "onboarding"}, set_onboarding},
      {"POST", {"certificates", "*", "certificateChange"}, set_certificate_change},
      {"GET", {"events"}, list_events},
      {"GET", {"dashboard", "state"}, dashboard_state},
      {"GET", {"dashboard", "events"}, dashboard_events},
      {"GET", {"devices"}, list_devices},
      {"POST", {"devices", "disable"}, set_group_enabled},
      {"POST", {"devices", "enable"}, set_group_enabled},
      {"PUT", {"devices", "*"}, register_device},
      {"GET", {"devices", "*"}, show_device},
      {"DELETE", {"devices", "*"}, delete_device},
      {"POST", {"devices", "*", "approve"}, approve_device},
      {"POST", {"devices", "*", "disable"}, set_device_enabled},
      {"POST", {"devices", "*", "enable"}, set_device_enabled},
      {"PUT", {"devices", "*", "thumbprint"}, pin_thumbprint},
      {"GET", {"devices", "*", "twin"}, device_twin},
      {"GET", {"devices", "*", "telemetry"}, device_telemetry},
      {"POST", {"devices", "*", "messages"}, send_message},
      {"POST", {"devices", "*", "methods", "*"}, invoke_method},
  };
  return table;
}

bool matches(const Route &route, const std::string &method, const std::vector<std::string> &parts) {
  if (method != route.method || parts.size() != route.shape.size() + 2)
    return false;
  for (size_t i = 0; i < route.shape.size(); ++i)
    if (route.shape[i] != "*" && route.shape[i] != parts[i + 2])
      return false;
  return true;
}

std::vector<std::string> split_path(const std::string &target) {
  std::vector<std::string> parts;
  std::string path = target.substr(0, target.find('?'));
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    if (end > start) // a name may hold any character, percent-encoded
      parts.push_back(percent_decode(path.substr(start, end - start)));
    start = end + 1;
  }
  return parts;
}

std::string bearer_token(const HttpRequest &request) {
  std::string authorization = request.header("Authorization");
  const std::string scheme = "Bearer ";
  return authorization.rfind(scheme, 0) == 0 ? authorization.substr(scheme.size()) : "";
}

} // namespace
} // namespace api

void handle_service_request(ServiceContext &context, const HttpRequest &request,
                            Respond respond) {
  using api::error_response;
  auto parts = api::split_path(request.target);
  if (auto file = dashboard_file(request, parts)) // a page with no data: no token
    return respond(std::move(*file));
  if (parts.size() < 3 || parts[0] != "hubs")
    return respond(error_response(Error(Reason::not_found, "unknown path")));
  for (const auto &part : parts) // names are text: no NUL, line break or other control
    if (std::any_of(part.begin(), part.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      return respond(error_response(Error(
          Reason::malformed_request, "the path holds a control character (percent-encoded); "
                                     "names and IDs are text")));
  const std::string &hub = parts[1];
  // Unknown hub and wrong token answer alike, so tokens reveal nothing.
  if (!context.registry.authorise(hub, api::bearer_token(request)))
    return respond(error_response(Error(Reason::unauthorized,
                                        "a valid bearer token for this hub is required")));
  for (const auto &route : api::routes()) {
    if (!api::matches(route, request.method, parts))
      continue;
    api::Call call{context, request, hub, parts, std::move(respond)};
    return route.handle(call);
  }
  respond(error_response(Error(Reason::not_found, request.method + " " + parts[2] +
                                                      "/...: no such route in the service API")));
}

HttpResponse handle_service_request(ServiceContext &context, const HttpRequest &request) {
  auto answer = std::make_shared<std::promise<HttpResponse>>();
  auto future = answer->get_future();
  handle_service_request(context, request,
                         [answer](HttpResponse response) { answer->set_value(std::move(response)); });
  return future.get();
}

} // namespace chainlab::hub
