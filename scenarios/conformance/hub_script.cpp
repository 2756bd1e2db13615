#include "scenarios/conformance/hub_script.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/byte_reader.hpp"
#include "mqtt/codec.hpp"

namespace chainlab::conformance {
namespace {

bool starts_with(const std::string &text, const std::string &prefix) {
  return text.rfind(prefix, 0) == 0;
}

// send_reply queues |packet| unless it cannot be encoded: a reply topic
// echoes what the device sent (its device ID, a $rid), so it may be no topic
// name at all (a wildcard, over 64 KB; found by fuzzing). Such a reply is
// not sent. True when it was queued.
bool send_reply(HubScript::Step &step, const mqtt::Packet &packet) {
  auto bytes = mqtt::encode(packet);
  if (!bytes)
    return false;
  step.replies.push_back(std::move(bytes.value()));
  return true;
}

constexpr const char *kTwinDocument =
    R"({"desired":{"telemetryIntervalSeconds":5,"$version":2},"reported":{"$version":1}})";

} // namespace

std::vector<std::uint16_t> parse_supported_versions(std::span<const std::uint8_t> body) {
  ByteReader reader(body);
  std::uint8_t length = 0;
  std::span<const std::uint8_t> list;
  if (!reader.read_u8(length) || length % 2 != 0 || !reader.read_bytes(length, list))
    return {};
  std::vector<std::uint16_t> versions;
  ByteReader items(list);
  for (std::uint16_t version = 0; items.read_u16(version);)
    versions.push_back(version);
  return versions;
}

std::optional<std::string> parse_server_name(std::span<const std::uint8_t> body) {
  ByteReader reader(body);
  std::uint16_t length = 0;
  std::span<const std::uint8_t> list;
  if (!reader.read_u16(length) || !reader.read_bytes(length, list))
    return std::nullopt;
  ByteReader entries(list);
  std::uint8_t type = 0;
  std::string name;
  while (entries.read_u8(type) && entries.read_binary(name))
    if (type == 0) // host_name
      return name;
  return std::nullopt;
}

std::string azure_topic(std::string topic) {
  std::string out;
  for (std::size_t at = 0; at < topic.size(); ++at) {
    if (topic.compare(at, 3, "%24") == 0) {
      out += '$';
      at += 2;
    } else {
      out += topic[at];
    }
  }
  return out;
}

HubScript::HubScript(MqttBehaviour behaviour, std::string method_rid)
    : behaviour_(behaviour),
      method_rid_(method_rid.empty() ? random_hex(8) : std::move(method_rid)) {}

HubScript::Step HubScript::take(std::vector<std::uint8_t> &inbound, Clock::time_point now) {
  Step step;
  if (behaviour_ == MqttBehaviour::silent) {
    inbound.clear();
    return step;
  }
  while (!finished_) {
    mqtt::Frame frame;
    try {
      frame = mqtt::read_frame(inbound, mqtt::kDefaultMaxPacketSize);
    } catch (const Error &error) {
      protocol_error_ = error.detail();
      finished_ = true;
      break;
    }
    if (frame.status != mqtt::Frame::Status::complete)
      break;
    auto packet = mqtt::decode_packet(
        frame.first_byte, std::span(inbound).subspan(frame.header_size, frame.remaining_length));
    inbound.erase(inbound.begin(), inbound.begin() + long(frame.total_size()));
    if (!packet) {
      protocol_error_ = packet.error().detail();
      finished_ = true;
      break;
    }
    answer(packet.value(), step);
    if (auto *publish = std::get_if<mqtt::Publish>(&packet.value())) {
      auto keep = std::min({publish->payload.size(), kMaxPayloadKept, kPayloadBudget - payload_kept_});
      publish->payload.resize(keep);
      payload_kept_ += keep;
    }
    packets_.push_back({now, std::move(packet.value())});
    if (packets_.size() >= kMaxPackets) {
      protocol_error_ = "more than " + std::to_string(kMaxPackets) + " packets: cut off";
      finished_ = true;
    }
  }
  return step;
}

void HubScript::answer(const mqtt::Packet &packet, Step &step) {
  auto reply = [&](const mqtt::Packet &out) { send_reply(step, out); };
  if (std::holds_alternative<mqtt::Connect>(packet)) {
    bool refuse = behaviour_ == MqttBehaviour::refuse_connect;
    reply(mqtt::Connack{false, refuse ? mqtt::ConnackCode::not_authorized
                                      : mqtt::ConnackCode::accepted});
    finished_ = behaviour_ != MqttBehaviour::serve;
  } else if (auto *subscribe = std::get_if<mqtt::Subscribe>(&packet)) {
    answer_subscribe(*subscribe, step);
  } else if (auto *publish = std::get_if<mqtt::Publish>(&packet)) {
    answer_publish(*publish, step);
  } else if (std::holds_alternative<mqtt::Pingreq>(packet)) {
    reply(mqtt::Pingresp{});
  } else if (std::holds_alternative<mqtt::Disconnect>(packet)) {
    finished_ = true;
  }
}

void HubScript::answer_subscribe(const mqtt::Subscribe &subscribe, Step &step) {
  mqtt::Suback suback{subscribe.packet_id, {}};
  for (const auto &[filter, qos] : subscribe.filters)
    suback.return_codes.push_back(std::min<std::uint8_t>(qos, 1));
  send_reply(step, suback);
  for (const auto &[raw, qos] : subscribe.filters) {
    std::string filter = azure_topic(raw);
    auto bound = filter.find("/messages/devicebound/");
    if (!c2d_sent_ && starts_with(filter, "devices/") && bound != std::string::npos) {
      std::string device = filter.substr(8, bound - 8);
      std::string topic = filter.substr(0, bound) + "/messages/devicebound/%24.mid=conformance-c2d&"
                          "%24.to=%2Fdevices%2F" + device + "%2Fmessages%2FdeviceBound";
      c2d_sent_ = send_reply(step, mqtt::Publish{topic, R"({"conformance":"cloud-to-device"})", 1,
                                                  false, false, kC2dPacketId});
    }
    if (!method_sent_ && starts_with(filter, "$iothub/methods/POST/")) {
      method_sent_ = send_reply(
          step, mqtt::Publish{std::string("$iothub/methods/POST/") + kMethodName + "/?$rid=" +
                                  method_rid_,
                              R"({"probe":true})", 0, false, false, 0});
    }
  }
}

void HubScript::answer_publish(const mqtt::Publish &publish, Step &step) {
  if (publish.qos == 1)
    send_reply(step, mqtt::Puback{publish.packet_id});
  std::string topic = azure_topic(publish.topic);
  std::string rid = mqtt::topic_query_value(topic, "$rid");
  std::string reply;
  if (starts_with(topic, "$iothub/twin/GET/"))
    reply = "$iothub/twin/res/200/?$rid=" + rid;
  else if (starts_with(topic, "$iothub/twin/PATCH/properties/reported/"))
    reply = "$iothub/twin/res/204/?$rid=" + rid + "&$version=2";
  if (!reply.empty())
    send_reply(step, mqtt::Publish{reply, reply.find("/res/200/") != std::string::npos ? kTwinDocument : "",
                                   0, false, false, 0});
}

void HubScript::report(ConnectionRecord &record) {
  record.packets.insert(record.packets.end(), packets_.begin() + long(reported_), packets_.end());
  reported_ = packets_.size();
  record.protocol_error = protocol_error_;
  record.c2d_packet_id = c2d_sent_ ? kC2dPacketId : 0;
  record.method_rid = method_sent_ ? method_rid_ : "";
}

} // namespace chainlab::conformance
