// The conformance suite's pure parts: the profile loader, the hub's script,
// the ClientHello parsers and the judges, with no sockets and no processes.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "device/device_loop.hpp"
#include "mqtt/codec.hpp"
#include "scenarios/conformance/hub_script.hpp"
#include "scenarios/conformance/judges.hpp"
#include "scenarios/conformance/profile.hpp"

namespace chainlab::conformance {
namespace {

std::string refusal(const std::string &text) {
  try {
    parse_profile(text, "p.json");
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::config_invalid);
    return error.what();
  }
  return "accepted";
}

TEST(Profile, LoadsAValidProfile) {
  auto profile = parse_profile(
      R"({"name":"d","command":"run {device_id} -m '{{\"t\":1}}'","capabilities":["telemetry"],"key":"pem"})",
      "p.json");
  EXPECT_EQ(profile.name, "d");
  EXPECT_TRUE(profile.claims("telemetry"));
  EXPECT_FALSE(profile.claims("twin"));
  EXPECT_EQ(expand_command(profile.command, {{"device_id", "a'b"}}), R"(run 'a'\''b' -m '{"t":1}')");
}

TEST(Profile, RefusesWhatItDoesNotKnowWithTheJsonPointer) {
  const std::string base = R"("name":"d","command":"x","capabilities":[],"key":"pem")";
  EXPECT_NE(refusal("{" + base + R"(,"extra/field":1})").find("p.json: /extra~1field: unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name":"d","command":"x","capabilities":["telemetry","teleport"],"key":"pem"})")
                .find("/capabilities/1: unknown capability"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name":"d","command":"go {hub_prot}","capabilities":[],"key":"pem"})")
                .find("/command: unknown placeholder {hub_prot}"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name":"d","command":"x","capabilities":[],"key":"usb"})").find("/key"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"command":"x","capabilities":[],"key":"pem"})").find("/name: required"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name":"d","command":"x {","capabilities":[],"key":"pem"})").find("unclosed"),
            std::string::npos);
  EXPECT_NE(refusal("[]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(refusal("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal(R"({"name":"d","command":"x","capabilities":["c2d","c2d"],"key":"pem"})")
                .find("/capabilities/1: listed twice"),
            std::string::npos);
}

std::vector<mqtt::Packet> replies(HubScript &script, const mqtt::Packet &packet) {
  auto bytes = mqtt::encode(packet);
  EXPECT_TRUE(bytes) << bytes.error().what();
  std::vector<std::uint8_t> inbound = bytes ? bytes.value() : std::vector<std::uint8_t>{};
  std::vector<mqtt::Packet> out;
  for (const auto &reply : script.take(inbound, Clock::now()).replies)
    out.push_back(mqtt::decode(reply).value());
  EXPECT_TRUE(inbound.empty());
  return out;
}

TEST(HubScript, PlaysAzureIoTHub) {
  HubScript script(MqttBehaviour::serve, "abc");
  auto connack = replies(script, mqtt::Connect{});
  ASSERT_EQ(connack.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Connack>(connack[0]).code, mqtt::ConnackCode::accepted);

  auto c2d = replies(script, mqtt::Subscribe{1, {{"devices/d1/messages/devicebound/#", 1}}});
  ASSERT_EQ(c2d.size(), 2u);
  auto &message = std::get<mqtt::Publish>(c2d[1]);
  EXPECT_EQ(message.packet_id, kC2dPacketId);
  EXPECT_EQ(message.topic.rfind("devices/d1/messages/devicebound/", 0), 0u);

  auto method = replies(script, mqtt::Subscribe{2, {{"%24iothub/methods/POST/#", 0}}});
  ASSERT_EQ(method.size(), 2u);
  EXPECT_EQ(std::get<mqtt::Publish>(method[1]).topic, "$iothub/methods/POST/conformance_probe/?$rid=abc");

  auto twin = replies(script, mqtt::Publish{"%24iothub/twin/GET/?$rid=7", "", 0, false, false, 0});
  ASSERT_EQ(twin.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Publish>(twin[0]).topic, "$iothub/twin/res/200/?$rid=7");

  ConnectionRecord record;
  script.report(record);
  EXPECT_EQ(record.packets.size(), 4u);
  EXPECT_EQ(record.method_rid, "abc");
}

TEST(HubScript, SendsNoReplyWhoseEchoedTopicIsNoTopicName) {
  // The device's own strings come back in reply topics (found by fuzzing).
  HubScript script(MqttBehaviour::serve);
  replies(script, mqtt::Connect{});
  auto wildcard = replies(script, mqtt::Subscribe{1, {{"devices/d+/messages/devicebound/#", 1}}});
  EXPECT_EQ(wildcard.size(), 1u); // the SUBACK, no C2D message to a wildcard
  // A $rid that fits the request's topic but makes the reply's over 64 KB.
  auto rid = replies(script, mqtt::Publish{"$iothub/twin/GET/?$rid=" + std::string(65510, '7'), "",
                                           0, false, false, 0});
  EXPECT_TRUE(rid.empty());
  EXPECT_FALSE(script.finished());
  auto own = replies(script, mqtt::Subscribe{2, {{"devices/d1/messages/devicebound/#", 1}}});
  EXPECT_EQ(own.size(), 2u); // the C2D message still goes to a proper subscription
}

TEST(HubScript, RefusesWithConnack5AndStopsOnGarbage) {
  HubScript refusing(MqttBehaviour::refuse_connect);
  auto connack = replies(refusing, mqtt::Connect{});
  EXPECT_EQ(std::get<mqtt::Connack>(connack[0]).code, mqtt::ConnackCode::not_authorized);
  EXPECT_TRUE(refusing.finished());

  HubScript serving(MqttBehaviour::serve);
  std::vector<std::uint8_t> garbage = {0x10, 0xff, 0xff, 0xff, 0xff, 0x01};
  serving.take(garbage, Clock::now());
  ConnectionRecord record;
  serving.report(record);
  EXPECT_TRUE(serving.finished());
  EXPECT_FALSE(record.protocol_error.empty());
}

TEST(ClientHello, ParsesVersionsAndServerName) {
  std::vector<std::uint8_t> versions = {4, 0x03, 0x04, 0x03, 0x03};
  EXPECT_EQ(parse_supported_versions(versions), (std::vector<std::uint16_t>{0x0304, 0x0303}));
  std::vector<std::uint8_t> truncated = {6, 0x03, 0x04};
  EXPECT_TRUE(parse_supported_versions(truncated).empty());
  std::vector<std::uint8_t> sni = {0, 12, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
  EXPECT_EQ(parse_server_name(sni), "localhost");
  sni[1] = 40; // claims more than there is
  EXPECT_EQ(parse_server_name(sni), std::nullopt);
}

Observations main_with(std::vector<PacketRecord> packets) {
  Observations seen;
  seen.device_id = "d1";
  seen.hub_host = "localhost";
  seen.hub_port = 8883;
  ConnectionRecord record;
  record.packets = std::move(packets);
  seen.sessions[SessionKind::main].hub.push_back(record);
  return seen;
}

TEST(Judges, ConnectNeedsTheCnTheUserNameAndNoPassword) {
  const CheckInfo &check = *find_check("mqtt.connect");
  mqtt::Connect connect;
  connect.client_id = "d1";
  connect.username = "localhost:8883/d1/?api-version=2021-04-12";
  EXPECT_EQ(judge(check, main_with({{Clock::now(), connect}})).verdict, Verdict::pass);
  connect.client_id = "d2";
  auto wrong = judge(check, main_with({{Clock::now(), connect}}));
  EXPECT_EQ(wrong.verdict, Verdict::fail);
  EXPECT_NE(wrong.evidence.find("not the certificate's CN d1"), std::string::npos);
  connect.client_id = "d1";
  connect.password = "secret";
  EXPECT_EQ(judge(check, main_with({{Clock::now(), connect}})).verdict, Verdict::fail);
}

TEST(Judges, TelemetryOnAnotherDevicesTopicFails) {
  const CheckInfo &check = *find_check("mqtt.telemetry");
  mqtt::Publish mine{"devices/d1/messages/events/", "{}", 1, false, false, 1};
  mqtt::Publish theirs{"devices/d2/messages/events/", "{}", 1, false, false, 2};
  EXPECT_EQ(judge(check, main_with({{Clock::now(), mine}})).verdict, Verdict::pass);
  EXPECT_EQ(judge(check, main_with({{Clock::now(), mine}, {Clock::now(), theirs}})).verdict,
            Verdict::fail);
  mine.qos = 0;
  EXPECT_EQ(judge(check, main_with({{Clock::now(), mine}})).verdict, Verdict::fail);
}

TEST(Judges, RetryingWithoutBackoffFails) {
  const CheckInfo &check = *find_check("resilience.connack-refused");
  Observations seen;
  auto start = Clock::now();
  for (int i = 0; i < 4; ++i) {
    ConnectionRecord record;
    record.accepted = start + std::chrono::milliseconds(500 << i);
    seen.sessions[SessionKind::refusing_hub].hub.push_back(record);
  }
  EXPECT_EQ(judge(check, seen).verdict, Verdict::pass);
  ConnectionRecord spin;
  spin.accepted = seen.sessions[SessionKind::refusing_hub].hub.back().accepted + std::chrono::milliseconds(5);
  seen.sessions[SessionKind::refusing_hub].hub.push_back(spin);
  EXPECT_EQ(judge(check, seen).verdict, Verdict::fail);
}

TEST(Judges, AHubRefusalNeedsAConnectionAndNoMqttBytes) {
  const CheckInfo &check = *find_check("tls.refuses-expired");
  Observations seen;
  EXPECT_EQ(judge(check, seen).verdict, Verdict::fail); // never tried: nothing to judge
  ConnectionRecord refused;
  refused.handshake_error = "alert bad certificate";
  seen.sessions[SessionKind::expired_hub].hub.push_back(refused);
  EXPECT_EQ(judge(check, seen).verdict, Verdict::pass);
  seen.sessions[SessionKind::expired_hub].hub.front().application_bytes = 40;
  EXPECT_EQ(judge(check, seen).verdict, Verdict::fail);
}

} // namespace
} // namespace chainlab::conformance

namespace chainlab::device {
namespace {

TEST(DeviceRun, BackoffDoublesWithJitterUpToTheCeiling) {
  Backoff backoff;
  EXPECT_EQ(next_delay(backoff, 0, 1.0).count(), 500);
  EXPECT_EQ(next_delay(backoff, 0, 0.0).count(), 250);
  EXPECT_EQ(next_delay(backoff, 3, 1.0).count(), 4000);
  EXPECT_EQ(next_delay(backoff, 40, 1.0).count(), 30000);
}

TEST(DeviceRun, EstUrlIsHttpsHostPortAndTheEstPath) {
  est::Endpoint endpoint;
  parse_est_url("https://localhost:8443/.well-known/est", endpoint);
  EXPECT_EQ(endpoint.host, "localhost");
  EXPECT_EQ(endpoint.port, 8443);
  for (const char *bad : {"http://localhost:1/", "https://localhost/", "https://h:0",
                          "https://h:99999", "https://h:12/other", "https://:12"})
    EXPECT_THROW(parse_est_url(bad, endpoint), Error) << bad;
}

} // namespace
} // namespace chainlab::device
