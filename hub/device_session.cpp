#include "hub/device_session.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "core/protocol_codes.hpp"
#include "mqtt/codec.hpp"

namespace chainlab::hub {
namespace {

using mqtt::ConnackCode;

// A twin reply echoes the request's $rid into its topic; SDKs send an
// integer or a UUID. A longer one could push the reply's topic past MQTT's
// 64 KB (found by fuzzing the conformance hub), so it is refused.
constexpr std::size_t kMaxRequestIdBytes = 1024;

bool starts_with(std::string_view text, std::string_view prefix) { return text.starts_with(prefix); }

// is_events_topic_of: "devices/{id}/messages/events", or a topic below it.
bool is_events_topic_of(std::string_view topic, std::string_view device_id) {
  constexpr std::string_view devices = "devices/", events = "/messages/events";
  if (!topic.starts_with(devices) || !topic.substr(devices.size()).starts_with(device_id))
    return false;
  topic.remove_prefix(devices.size() + device_id.size());
  return topic.starts_with(events) && (topic.size() == events.size() || topic[events.size()] == '/');
}

// refused_filters names the first refused filter (up to 200 bytes) and how
// many more there were: one event per packet, however many filters it holds.
std::string refused_filters(const std::vector<std::string> &filters) {
  std::string text = "\"" + filters.front().substr(0, 200) + "\"";
  if (filters.size() > 1)
    text += " and " + std::to_string(filters.size() - 1) + " more";
  return text;
}

} // namespace

std::optional<std::string> username_device_id(const std::string &username) {
  auto first = username.find('/');
  if (first == std::string::npos || first == 0)
    return std::nullopt;
  auto second = username.find('/', first + 1);
  if (second == std::string::npos || second == first + 1)
    return std::nullopt;
  std::string rest = username.substr(second + 1);
  if (!starts_with(rest, "?") || rest.find("api-version=") == std::string::npos)
    return std::nullopt;
  return username.substr(first + 1, second - first - 1);
}

std::string normalise_topic(const std::string &topic) {
  return starts_with(topic, "%24") ? "$" + topic.substr(3) : topic;
}

DeviceSession::DeviceSession(DeviceIdentity identity, SessionServices &services,
                             std::shared_ptr<LateOutput> late)
    : identity_(std::move(identity)), services_(services), late_(std::move(late)) {}

SessionOutput DeviceSession::refuse_connect(const Error &error) {
  services_.record_refusal(identity_, error);
  return {{mqtt::Connack{false, ConnackCode(connack_code(error.reason()))}}, true};
}

SessionOutput DeviceSession::refuse_and_close(const Error &error) {
  services_.record_refusal(identity_, error);
  return {{}, true};
}

SessionOutput DeviceSession::on_packet(mqtt::Packet &&packet) {
  if (!connected_) {
    if (auto *connect = std::get_if<mqtt::Connect>(&packet))
      return on_connect(*connect);
    return refuse_and_close(Error(Reason::malformed_packet,
                                  "device " + identity_.device_id +
                                      " sent another packet before CONNECT"));
  }
  if (std::holds_alternative<mqtt::Connect>(packet))
    return refuse_and_close(Error(Reason::malformed_packet,
                                  "device " + identity_.device_id + " sent a second CONNECT"));
  if (auto *publish = std::get_if<mqtt::Publish>(&packet))
    return on_publish(std::move(*publish));
  if (auto *subscribe = std::get_if<mqtt::Subscribe>(&packet))
    return on_subscribe(*subscribe);
  if (auto *unsubscribe = std::get_if<mqtt::Unsubscribe>(&packet)) {
    for (const auto &filter : unsubscribe->filters)
      subscriptions_.erase(normalise_topic(filter));
    return {{mqtt::Unsuback{unsubscribe->packet_id}}, false};
  }
  if (std::holds_alternative<mqtt::Pingreq>(packet))
    return {{mqtt::Pingresp{}}, false};
  if (std::holds_alternative<mqtt::Disconnect>(packet)) {
    services_.disconnected(identity_);
    return {{}, true};
  }
  if (std::holds_alternative<mqtt::Puback>(packet))
    return {}; // acknowledgement of a cloud-to-device message
  return refuse_and_close(Error(Reason::malformed_packet,
                                "device " + identity_.device_id +
                                    " sent a packet a server does not accept"));
}

SessionOutput DeviceSession::on_connect(const mqtt::Connect &connect) {
  if (connect.protocol_name != "MQTT" || connect.protocol_level != 4)
    return refuse_connect(Error(Reason::malformed_packet,
                                "protocol " + connect.protocol_name + " level " +
                                    std::to_string(connect.protocol_level) +
                                    ": only MQTT 3.1.1 (level 4) is spoken"));
  const std::string &id = identity_.device_id;
  if (connect.client_id != id)
    return refuse_connect(Error(Reason::device_id_mismatch,
                                "client ID \"" + connect.client_id +
                                    "\" is not the certificate's CN \"" + id +
                                    "\"; a device connects only as itself"));
  if (!connect.username)
    return refuse_connect(Error(Reason::malformed_request,
                                "device " + id + " sent no user name; expected "
                                "{host}/" + id + "/?api-version=..."));
  auto named = username_device_id(*connect.username);
  if (!named)
    return refuse_connect(Error(Reason::malformed_request,
                                "user name \"" + *connect.username +
                                    "\" is not of the form {host}/{deviceId}/?api-version=..."));
  if (*named != id)
    return refuse_connect(Error(Reason::device_id_mismatch,
                                "user name names device \"" + *named +
                                    "\" but the certificate's CN is \"" + id + "\""));
  if (connect.password)
    return refuse_connect(Error(Reason::unauthorized,
                                "device " + id + " sent a password; X.509 devices "
                                "authenticate by certificate only"));
  asked_keep_alive_ = std::chrono::seconds(connect.keep_alive);
  admitting_ = true;
  services_.admit(identity_, [late = late_](Result<bool> admitted) {
    late->run([admitted = std::move(admitted)](DeviceSession &session) {
      return session.on_admission(admitted);
    });
  });
  return {};
}

SessionOutput DeviceSession::on_admission(const Result<bool> &admitted) {
  admitting_ = false;
  // The certificate was kept for admission (log check, auditors' copy);
  // a held connection need not carry it.
  identity_.certificate_der = std::string();
  identity_.required_log.reset();
  if (!admitted)
    return refuse_connect(admitted.error());
  connected_ = true;
  if (asked_keep_alive_.count() > 0)
    keep_alive_ = asked_keep_alive_;
  return {{mqtt::Connack{false, ConnackCode::accepted}}, false};
}

SessionOutput DeviceSession::on_publish(mqtt::Publish &&publish) {
  if (starts_with(publish.topic, "%24"))
    publish.topic = normalise_topic(publish.topic);
  if (is_events_topic_of(publish.topic, identity_.device_id))
    return on_telemetry(publish);
  const std::string &topic = publish.topic;
  std::string rid = mqtt::topic_query_value(topic, "$rid");
  if (rid.size() > kMaxRequestIdBytes)
    return refuse_and_close(Error(Reason::malformed_packet,
                                  "device " + identity_.device_id + " sent a $rid of " +
                                      std::to_string(rid.size()) + " bytes (at most " +
                                      std::to_string(kMaxRequestIdBytes) + ")"));
  struct Route {
    std::string_view prefix;
    void (DeviceSession::*answer)(const Request &, SessionOutput &);
  };
  static constexpr Route routes[] = {
      {"$iothub/twin/GET/", &DeviceSession::answer_twin_get},
      {"$iothub/twin/PATCH/properties/reported/", &DeviceSession::answer_reported_patch},
      {"$iothub/methods/res/", &DeviceSession::take_method_response},
  };
  auto route = std::find_if(std::begin(routes), std::end(routes),
                            [&](const Route &r) { return starts_with(topic, r.prefix); });
  if (route == std::end(routes)) {
    bool other_device = starts_with(topic, "devices/");
    return refuse_and_close(Error(
        Reason::topic_not_allowed,
        "device " + identity_.device_id + " published to \"" + topic + "\"" +
            (other_device ? ", another device's topic" : ", which is not a device topic")));
  }
  SessionOutput out;
  (this->*route->answer)({topic, rid, publish}, out);
  if (publish.qos == 1)
    out.send.insert(out.send.begin(), mqtt::Puback{publish.packet_id});
  return out;
}

// on_telemetry: the PUBACK waits until the message is on disk (acknowledged
// means kept). QoS 0 messages are counted too, so that neither kind can
// queue without bound behind the disk. The ticket names the message to
// on_landed: its QoS above its packet identifier.
SessionOutput DeviceSession::on_telemetry(const mqtt::Publish &publish) {
  std::uint32_t ticket = std::uint32_t(publish.qos) << 16 | publish.packet_id;
  ++awaiting_disk_; // before the write: it may land at once
  auto recorded =
      services_.record_telemetry(identity_, publish.topic, publish.payload, late_, ticket);
  if (!recorded) {
    --awaiting_disk_; // not taken: it never lands
    return refuse_and_close(recorded.error());
  }
  return {};
}

SessionOutput DeviceSession::on_landed(std::uint32_t ticket, bool kept) {
  --awaiting_disk_;
  if (!kept)
    return {{}, true};
  bool qos1 = ticket >> 16 == 1;
  return qos1 ? SessionOutput{{mqtt::Puback{std::uint16_t(ticket & 0xffff)}}, false}
              : SessionOutput{};
}

void DeviceSession::answer_twin_get(const Request &request, SessionOutput &out) {
  out.send.push_back(mqtt::Publish{"$iothub/twin/res/200/?$rid=" + request.rid,
                                   services_.twin(identity_), 0, false, false, 0});
}

void DeviceSession::answer_reported_patch(const Request &request, SessionOutput &out) {
  auto version = services_.patch_reported(identity_, request.publish.payload);
  if (!version)
    services_.record_refusal(identity_, version.error());
  std::string status = version ? "204" : "400";
  std::string suffix = version ? "&$version=" + std::to_string(version.value()) : "";
  out.send.push_back(mqtt::Publish{"$iothub/twin/res/" + status + "/?$rid=" + request.rid + suffix,
                                   "", 0, false, false, 0});
}

// take_method_response: "$iothub/methods/res/{status}/?$rid=..." delivers a
// direct method's answer to the operator's call that waits for it.
void DeviceSession::take_method_response(const Request &request, SessionOutput &) {
  std::string status = request.topic.substr(std::string_view("$iothub/methods/res/").size());
  status = status.substr(0, status.find('/'));
  int code = 0;
  auto [end, failed] = std::from_chars(status.data(), status.data() + status.size(), code);
  if (failed == std::errc() && end == status.data() + status.size() && !status.empty())
    return services_.method_response(identity_, request.rid, code, request.publish.payload);
  // Dropped: the operator's call times out, as for an answer never sent.
  services_.record_refusal(
      identity_, Error(Reason::malformed_packet,
                       "device " + identity_.device_id + " answered direct method request " +
                           request.rid.substr(0, 64) + " with status \"" + status.substr(0, 64) +
                           "\", which is not a whole number"));
}

bool DeviceSession::may_subscribe(const std::string &filter) const {
  const std::string own = "devices/" + identity_.device_id + "/messages/devicebound/";
  return filter == own + "#" || starts_with(filter, own) || filter == "$iothub/twin/res/#" ||
         filter == "$iothub/methods/POST/#" ||
         filter == "$iothub/twin/PATCH/properties/desired/#";
}

SessionOutput DeviceSession::on_subscribe(const mqtt::Subscribe &subscribe) {
  mqtt::Suback suback{subscribe.packet_id, {}};
  std::vector<std::string> not_allowed, over_cap;
  for (const auto &[raw_filter, qos] : subscribe.filters) {
    std::string filter = normalise_topic(raw_filter);
    // Every filter under its devicebound topic is its own: without a cap,
    // one device could make the hub hold any number of them.
    bool room = subscriptions_.size() < kMaxSubscriptions || subscriptions_.count(filter);
    std::uint8_t code = std::min<std::uint8_t>(qos, 1);
    if (!may_subscribe(filter)) {
      not_allowed.push_back(std::move(filter));
      code = mqtt::kSubackFailure;
    } else if (!room) {
      over_cap.push_back(std::move(filter));
      code = mqtt::kSubackFailure;
    } else {
      subscriptions_.insert(std::move(filter));
    }
    suback.return_codes.push_back(code);
  }
  if (!not_allowed.empty())
    services_.record_refusal(identity_, Error(Reason::topic_not_allowed,
                                              "device " + identity_.device_id +
                                                  " may not subscribe to " +
                                                  refused_filters(not_allowed)));
  if (!over_cap.empty())
    services_.record_refusal(
        identity_, Error(Reason::limit_exceeded,
                         "device " + identity_.device_id + " holds " +
                             std::to_string(kMaxSubscriptions) +
                             " subscriptions, the most a session may; " +
                             refused_filters(over_cap) + " refused"));
  return {{suback}, false};
}

std::optional<mqtt::Packet> DeviceSession::cloud_to_device(const std::string &properties,
                                                           const std::string &payload) {
  std::string topic = cloud_to_device_topic(identity_.device_id, properties);
  for (const auto &filter : subscriptions_) {
    if (!mqtt::topic_matches(filter, topic))
      continue;
    std::uint16_t id = next_packet_id_++;
    if (next_packet_id_ == 0)
      next_packet_id_ = 1;
    return mqtt::Publish{topic, payload, 1, false, false, id};
  }
  return std::nullopt;
}

std::optional<mqtt::Packet> DeviceSession::method_request(const std::string &method,
                                                          const std::string &request_id,
                                                          const std::string &payload) {
  std::string topic = method_request_topic(method, request_id);
  for (const auto &filter : subscriptions_)
    if (mqtt::topic_matches(filter, topic))
      return mqtt::Publish{topic, payload, 0, false, false, 0};
  return std::nullopt;
}

std::string cloud_to_device_topic(const std::string &device_id, const std::string &properties) {
  return "devices/" + device_id + "/messages/devicebound/" + properties;
}

std::string method_request_topic(const std::string &method, const std::string &request_id) {
  return "$iothub/methods/POST/" + method + "/?$rid=" + request_id;
}

std::optional<Error> c2d_properties_problem(const std::string &device_id,
                                            const std::string &properties) {
  if (auto problem = mqtt::topic_name_problem(cloud_to_device_topic(device_id, properties)))
    return Error(Reason::malformed_request,
                 "properties \"" + properties.substr(0, 200) + "\" cannot go to device " +
                     device_id + ": the message's topic name " + *problem);
  return std::nullopt;
}

std::optional<Error> method_name_problem(const std::string &method) {
  if (method.empty() || method.find_first_of("/?") != std::string::npos)
    return Error(Reason::malformed_request, "method name \"" + method.substr(0, 200) +
                                                "\" must be one non-empty topic level "
                                                "(no / or ?)");
  if (auto problem = mqtt::topic_name_problem(method_request_topic(method, "1")))
    return Error(Reason::malformed_request,
                 "method name \"" + method.substr(0, 200) + "\": the request's topic name " +
                     *problem);
  return std::nullopt;
}

} // namespace chainlab::hub
