#include "hub/dashboard.hpp"

#include "core/error.hpp"
#include "hub/api_support.hpp"
#include "hub/device_json.hpp"
#include "hub/event_feed.hpp"
#include "pki/inspect.hpp"

namespace chainlab::hub {
namespace {

using nlohmann::json;

HttpResponse static_file(const char *type, const char *body) {
  return HttpResponse{200,
                      {{"Content-Type", type},
                       {"Content-Security-Policy",
                        "default-src 'none'; script-src 'self'; style-src 'self'; "
                        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
                        "base-uri 'none'"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"X-Frame-Options", "DENY"},
                       {"Referrer-Policy", "no-referrer"},
                       {"Cache-Control", "no-store"}},
                      body};
}

constexpr std::size_t kPayloadShown = 512;

json event_json(const registry::EventRecord &event) {
  return {{"id", event.id},           {"time", pki::format_time(event.time)},
          {"kind", event.kind},       {"reason", event.reason},
          {"subject", event.subject}, {"detail", event.detail}};
}

json telemetry_json(const registry::TelemetryRecord &message) {
  return {{"device", message.device_id},
          {"time", pki::format_time(message.time)},
          {"topic", message.topic},
          {"bytes", message.payload.size()},
          {"payload", message.payload.substr(0, kPayloadShown)}};
}

// sse_text: the batch as server-sent events, the cursor last.
std::string sse_text(const FeedBatch &batch) {
  std::string body;
  for (const auto &event : batch.events)
    body += "event: hub-event\ndata: " + dump_json(event_json(event)) + "\n\n";
  for (const auto &[id, message] : batch.telemetry)
    body += "event: telemetry\ndata: " + dump_json(telemetry_json(message)) + "\n\n";
  std::string cursor = cursor_text(batch.next);
  body += "event: cursor\nid: " + cursor + "\ndata: \"" + cursor + "\"\n\n";
  return body;
}

HttpResponse sse_response(const FeedBatch &batch) {
  return HttpResponse{200,
                      {{"Content-Type", "text/event-stream; charset=utf-8"},
                       {"Cache-Control", "no-store"},
                       {"X-Content-Type-Options", "nosniff"}},
                      "retry: 1000\n\n" + sse_text(batch)};
}

// live_stream: after the first batch, each piece is the next batch the
// feed answers with, or a comment when its hold passed with nothing (which
// also finds clients that left); it ends when the feed is full or closed.
NextPiece live_stream(EventFeed &feed, const std::string &hub, FeedCursor after) {
  auto cursor = std::make_shared<FeedCursor>(after); // asked for one piece at a time
  return [&feed, hub, cursor](PieceAnswer answer) {
    bool waiting = feed.wait(hub, *cursor, [cursor, answer](FeedBatch batch) {
      if (batch.empty())
        return answer(std::string(": nothing new\n\n"));
      *cursor = batch.next;
      answer(sse_text(batch));
    });
    if (!waiting)
      answer(std::nullopt);
  };
}

} // namespace

std::optional<HttpResponse> dashboard_file(const HttpRequest &request,
                                           const std::vector<std::string> &parts) {
  if (request.method != "GET")
    return std::nullopt;
  if (parts.size() == 3 && parts[0] == "hubs" && parts[2] == "dashboard")
    return static_file("text/html; charset=utf-8", kDashboardPage);
  if (parts.size() == 2 && parts[0] == "dashboard" && parts[1] == "app.js")
    return static_file("text/javascript; charset=utf-8", kDashboardScript);
  if (parts.size() == 2 && parts[0] == "dashboard" && parts[1] == "app.css")
    return static_file("text/css; charset=utf-8", kDashboardStyle);
  return std::nullopt;
}

namespace api {

void dashboard_state(Call &call) {
  auto &registry = call.context.registry;
  json cas = json::array(), devices = json::array(), disabled = json::array();
  for (const auto &record : registry.list_cas(call.hub))
    cas.push_back(ca_json(record));
  // A page is drawn for people: a large fleet's tree shows its first
  // devices by id, and says how many there are.
  registry::DeviceQuery first_page;
  first_page.limit = kMostPerPage;
  for (const auto &device : registry.query_devices(call.hub, first_page))
    devices.push_back(device_json(device));
  for (const auto &rule : registry.disabled_intermediates(call.hub))
    disabled.push_back({{"subject", rule.subject}, {"key", rule.key_fingerprint}});
  // Counted by SQLite, up to the cursor the live feed continues from: a hub
  // with a long history is not read whole, and no refusal is counted twice.
  FeedCursor cursor{registry.last_event_id(call.hub), registry.last_telemetry_id()};
  auto refusals = registry.refusal_counts(call.hub, cursor.event);
  call.respond(json_response(200, {{"hub", call.hub},
                                   {"cas", cas},
                                   {"devices", devices},
                                   {"deviceCount", registry.count_devices(call.hub, {})},
                                   {"disabledIntermediates", disabled},
                                   {"refusalsByReason", refusals},
                                   {"cursor", cursor_text(cursor)}}));
}

void dashboard_events(Call &call) {
  std::string asked = call.request.header("Last-Event-ID");
  FeedCursor after = parse_cursor(asked.empty() ? query_parameter(call.request.target, "after") : asked);
  FeedBatch now = read_feed(call.context.registry, call.hub, after);
  HttpResponse response = sse_response(now);
  if (call.context.feed) // else (tests, tools) what there is now is all
    response.stream = live_stream(*call.context.feed, call.hub, now.next);
  call.respond(std::move(response));
}

} // namespace api
} // namespace chainlab::hub
