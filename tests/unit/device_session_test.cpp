// The hub's MQTT session logic in Azure IoT Hub's dialect, without
// sockets: CONNECT checks against the certificate identity, telemetry,
// subscriptions, twin, and refusals with their reasons.
#include <gtest/gtest.h>

#include "hub/device_session.hpp"

namespace chainlab::hub {
namespace {

struct FakeServices : SessionServices {
  std::optional<Error> refuse_admission;
  std::vector<Error> refusals;
  std::vector<std::pair<std::string, std::string>> telemetry;
  int admitted = 0, disconnects = 0;
  long reported_version = 1;

  // Admission lands at once, as if the disk were instant.
  void admit(const DeviceIdentity &, std::function<void(Result<bool>)> done) override {
    if (hold_admission)
      return void(held_admission = std::move(done));
    if (refuse_admission)
      return done(*refuse_admission);
    ++admitted;
    done(true);
  }
  Result<bool> record_telemetry(const DeviceIdentity &, std::string_view topic,
                                std::string_view payload,
                                const std::shared_ptr<registry::Landing> &landing,
                                std::uint32_t ticket) override {
    telemetry.emplace_back(topic, payload);
    waiting_for_disk.push_back([landing, ticket](bool kept) { landing->landed(ticket, kept); });
    return true;
  }
  // With hold_admission the test decides when the admission lands.
  bool hold_admission = false;
  std::function<void(Result<bool>)> held_admission;
  // The test decides when (and whether) each message reaches the disk.
  std::vector<std::function<void(bool)>> waiting_for_disk;
  void record_refusal(const DeviceIdentity &, const Error &error) override {
    refusals.push_back(error);
  }
  std::string twin(const DeviceIdentity &) override { return R"({"desired":{},"reported":{}})"; }
  Result<long> patch_reported(const DeviceIdentity &, const std::string &json) override {
    if (json.empty() || json.front() != '{')
      return Error(Reason::malformed_request, "not a JSON object");
    return ++reported_version;
  }
  void disconnected(const DeviceIdentity &) override { ++disconnects; }
  struct Answer {
    std::string request_id;
    int status;
    std::string payload;
  };
  std::vector<Answer> answers;
  void method_response(const DeviceIdentity &, const std::string &request_id, int status,
                       const std::string &payload) override {
    answers.push_back({request_id, status, payload});
  }
};

// TestSession runs a session's late steps as soon as they are handed over;
// on_packet returns what the session sends for a packet, at once or once its
// write landed; later late output is kept in |late|.
struct TestSession {
  struct Late final : LateOutput {
    explicit Late(TestSession &owner) : owner(owner) {}
    void run(LateStep step) override { owner.late.push_back(step(owner.session)); }
    void landed(std::uint32_t ticket, bool kept) override {
      owner.late.push_back(owner.session.on_landed(ticket, kept));
    }
    TestSession &owner;
  };
  TestSession(DeviceIdentity identity, SessionServices &services)
      : session(std::move(identity), services, std::make_shared<Late>(*this)) {}
  SessionOutput on_packet(const mqtt::Packet &packet) {
    late.clear();
    auto out = session.on_packet(packet);
    for (auto &more : late) {
      out.send.insert(out.send.end(), more.send.begin(), more.send.end());
      out.close = out.close || more.close;
    }
    late.clear();
    return out;
  }
  std::vector<SessionOutput> late;
  DeviceSession session;
};

mqtt::Connect azure_connect(const std::string &id = "widget-001") {
  mqtt::Connect connect;
  connect.client_id = id;
  connect.username = "localhost:8883/" + id + "/?api-version=2021-04-12&DeviceClientType=node";
  return connect;
}

DeviceIdentity bare_identity() {
  DeviceIdentity identity;
  identity.hub = "contoso";
  identity.device_id = "widget-001";
  return identity;
}

DeviceIdentity widget_identity() {
  DeviceIdentity identity = bare_identity();
  identity.ca_name = "company-x";
  identity.issuer_subject = "CN=Technician-Z";
  identity.chain_subjects = "CN=widget-001 <- CN=Technician-Z";
  identity.thumbprint = "AA";
  identity.peer_address = "127.0.0.1:1";
  return identity;
}

class DeviceSessionTest : public ::testing::Test {
protected:
  FakeServices services_;
  TestSession session_{widget_identity(), services_};
  std::vector<SessionOutput> &late_ = session_.late;

  mqtt::ConnackCode connack(const SessionOutput &out) {
    EXPECT_EQ(out.send.size(), 1u);
    return std::get<mqtt::Connack>(out.send.at(0)).code;
  }
  void connect() { ASSERT_EQ(connack(session_.on_packet(azure_connect())), mqtt::ConnackCode::accepted); }
  void expect_last_refusal(Reason reason) {
    ASSERT_FALSE(services_.refusals.empty());
    EXPECT_EQ(services_.refusals.back().reason(), reason) << services_.refusals.back().what();
  }
};

TEST_F(DeviceSessionTest, AcceptsTheAzureDialect) {
  connect();
  EXPECT_TRUE(session_.session.connected());
  EXPECT_EQ(services_.admitted, 1);
}

TEST_F(DeviceSessionTest, ConnackWaitsForTheAdmissionOnDisk) {
  services_.hold_admission = true;
  auto out = session_.on_packet(azure_connect());
  EXPECT_TRUE(out.send.empty());
  EXPECT_TRUE(session_.session.admitting());
  EXPECT_FALSE(session_.session.connected());
  services_.held_admission(true);
  ASSERT_EQ(late_.size(), 1u);
  EXPECT_EQ(connack(late_[0]), mqtt::ConnackCode::accepted);
  EXPECT_TRUE(session_.session.connected());
  EXPECT_FALSE(session_.session.admitting());
}

TEST_F(DeviceSessionTest, AnAdmissionThatCouldNotBeWrittenAsksTheDeviceToRetry) {
  services_.hold_admission = true;
  session_.on_packet(azure_connect());
  services_.held_admission(Error(Reason::storage_failed, "disk full"));
  ASSERT_EQ(late_.size(), 1u);
  EXPECT_EQ(connack(late_[0]), mqtt::ConnackCode::server_unavailable);
  EXPECT_TRUE(late_[0].close);
  EXPECT_FALSE(session_.session.connected());
}

TEST_F(DeviceSessionTest, UsernameForms) {
  EXPECT_EQ(username_device_id("hub.example/widget-001/?api-version=2021-04-12"), "widget-001");
  EXPECT_EQ(username_device_id("localhost:4711/w:1/?api-version=x&DeviceClientType=y"), "w:1");
  EXPECT_FALSE(username_device_id("widget-001"));
  EXPECT_FALSE(username_device_id("host//?api-version=1"));
  EXPECT_FALSE(username_device_id("host/widget-001/"));
  EXPECT_EQ(normalise_topic("%24iothub/twin/GET/?$rid=1"), "$iothub/twin/GET/?$rid=1");
}

TEST_F(DeviceSessionTest, ConnectRefusalsAnswerConnack5WithAReason) {
  struct Case {
    std::string name;
    mqtt::Connect connect;
    Reason reason;
  };
  mqtt::Connect other_client = azure_connect("widget-002");
  mqtt::Connect other_username = azure_connect();
  other_username.username = "localhost/widget-002/?api-version=2021-04-12";
  mqtt::Connect no_username = azure_connect();
  no_username.username.reset();
  mqtt::Connect with_password = azure_connect();
  with_password.password = "secret";
  std::vector<Case> cases = {
      {"fail/client-id-is-not-the-cn", other_client, Reason::device_id_mismatch},
      {"fail/username-names-another-device", other_username, Reason::device_id_mismatch},
      {"fail/no-username", no_username, Reason::malformed_request},
      {"fail/password-with-x509", with_password, Reason::unauthorized},
  };
  for (const auto &c : cases) {
    FakeServices services;
    TestSession session(bare_identity(), services);
    auto out = session.on_packet(c.connect);
    ASSERT_EQ(out.send.size(), 1u) << c.name;
    EXPECT_EQ(std::get<mqtt::Connack>(out.send[0]).code, mqtt::ConnackCode::not_authorized) << c.name;
    EXPECT_TRUE(out.close) << c.name;
    ASSERT_EQ(services.refusals.size(), 1u) << c.name;
    EXPECT_EQ(services.refusals[0].reason(), c.reason) << c.name;
    EXPECT_EQ(services.admitted, 0) << c.name;
  }
}

TEST_F(DeviceSessionTest, AdmissionRefusalAndProtocolLevel) {
  services_.refuse_admission = Error(Reason::device_disabled, "disabled");
  EXPECT_EQ(connack(session_.on_packet(azure_connect())), mqtt::ConnackCode::not_authorized);
  expect_last_refusal(Reason::device_disabled);
  mqtt::Connect old = azure_connect();
  old.protocol_level = 3;
  FakeServices services;
  TestSession session(bare_identity(), services);
  auto out = session.on_packet(old);
  EXPECT_EQ(std::get<mqtt::Connack>(out.send[0]).code, mqtt::ConnackCode::unacceptable_protocol);
}

TEST_F(DeviceSessionTest, TelemetryAtQos0And1) {
  connect();
  auto qos0 = session_.on_packet(mqtt::Publish{"devices/widget-001/messages/events/", "{\"t\":1}", 0, false, false, 0});
  EXPECT_TRUE(qos0.send.empty());
  auto qos1 = session_.on_packet(mqtt::Publish{"devices/widget-001/messages/events/a=b", "x", 1, false, false, 9});
  EXPECT_TRUE(qos1.send.empty()); // not acknowledged before it is on disk
  ASSERT_EQ(services_.telemetry.size(), 2u);
  EXPECT_EQ(services_.telemetry[0].second, "{\"t\":1}");
  ASSERT_EQ(services_.waiting_for_disk.size(), 2u);
  services_.waiting_for_disk[0](true);
  ASSERT_EQ(late_.size(), 1u);
  EXPECT_TRUE(late_[0].send.empty()); // QoS 0: nothing to acknowledge
  late_.clear();
  services_.waiting_for_disk[1](true);
  ASSERT_EQ(late_.size(), 1u);
  ASSERT_EQ(late_[0].send.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Puback>(late_[0].send[0]).packet_id, 9);
  EXPECT_FALSE(late_[0].close);
}

TEST_F(DeviceSessionTest, SaturatesWhenTooManyMessagesWaitForTheDiskAndRecovers) {
  connect();
  const std::string topic = "devices/widget-001/messages/events/";
  for (std::uint16_t id = 1; id <= DeviceSession::kMaxAwaitingDisk; ++id) {
    EXPECT_FALSE(session_.session.saturated()) << "after " << id - 1 << " messages";
    session_.on_packet(mqtt::Publish{topic, "x", std::uint8_t(id % 2), false, false, id});
  }
  EXPECT_TRUE(session_.session.saturated()) << "QoS 0 and 1 both count";
  EXPECT_TRUE(session_.session.connected()) << "back-pressure is not a refusal";
  services_.waiting_for_disk[0](true);
  EXPECT_FALSE(session_.session.saturated());
  EXPECT_EQ(session_.session.awaiting_disk(), DeviceSession::kMaxAwaitingDisk - 1);
  for (std::size_t i = 1; i < services_.waiting_for_disk.size(); ++i)
    services_.waiting_for_disk[i](true);
  EXPECT_EQ(session_.session.awaiting_disk(), 0u);
}

TEST_F(DeviceSessionTest, AMessageThatCouldNotBeWrittenIsNeverAcknowledged) {
  connect();
  session_.on_packet(mqtt::Publish{"devices/widget-001/messages/events/", "x", 1, false, false, 4});
  ASSERT_EQ(services_.waiting_for_disk.size(), 1u);
  services_.waiting_for_disk[0](false);
  ASSERT_EQ(late_.size(), 1u);
  EXPECT_TRUE(late_[0].send.empty());
  EXPECT_TRUE(late_[0].close); // the device sends it again on its next session
}

TEST_F(DeviceSessionTest, PublishingToAnotherDevicesTopicIsRefused) {
  connect();
  auto out = session_.on_packet(mqtt::Publish{"devices/widget-002/messages/events/", "spoof", 1, false, false, 3});
  EXPECT_TRUE(out.close);
  EXPECT_TRUE(out.send.empty());
  expect_last_refusal(Reason::topic_not_allowed);
  EXPECT_TRUE(services_.telemetry.empty());
}

// Only "devices/{own id}/messages/events" and topics below it are telemetry;
// an ID that merely starts with the device's own, or a longer last level,
// is another topic and closes the session.
TEST_F(DeviceSessionTest, TelemetryTopicsAreExactlyItsOwnEvents) {
  std::vector<std::pair<std::string, bool>> cases = {
      {"devices/widget-001/messages/events", true},
      {"devices/widget-001/messages/events/a=b", true},
      {"devices/widget-0012/messages/events/", false},
      {"devices/widget-001/messages/eventsX", false},
      {"devices/widget-001/messages/event", false},
      {"devices/widget-001", false},
  };
  for (const auto &[topic, telemetry] : cases) {
    FakeServices services;
    TestSession session(widget_identity(), services);
    ASSERT_EQ(connack(session.on_packet(azure_connect())), mqtt::ConnackCode::accepted);
    auto out = session.on_packet(mqtt::Publish{topic, "x", 0, false, false, 0});
    EXPECT_EQ(out.close, !telemetry) << topic;
    EXPECT_EQ(services.telemetry.size(), telemetry ? 1u : 0u) << topic;
  }
}

TEST_F(DeviceSessionTest, SubscriptionsAreLimitedToItsOwnTopics) {
  connect();
  auto out = session_.on_packet(mqtt::Subscribe{
      5, {{"devices/widget-001/messages/devicebound/#", 1},
          {"devices/widget-002/messages/devicebound/#", 1},
          {"%24iothub/twin/res/#", 0},
          {"#", 0}}});
  auto suback = std::get<mqtt::Suback>(out.send.at(0));
  EXPECT_EQ(suback.return_codes, (std::vector<std::uint8_t>{1, mqtt::kSubackFailure, 0, mqtt::kSubackFailure}));
  expect_last_refusal(Reason::topic_not_allowed);
  auto c2d = session_.session.cloud_to_device("%24.to=x", "hello");
  ASSERT_TRUE(c2d);
  EXPECT_EQ(std::get<mqtt::Publish>(*c2d).topic, "devices/widget-001/messages/devicebound/%24.to=x");
}

TEST_F(DeviceSessionTest, ASessionHoldsABoundedNumberOfSubscriptions) {
  connect();
  std::string own = "devices/widget-001/messages/devicebound/";
  mqtt::Subscribe many{6, {}};
  for (std::size_t i = 0; i <= DeviceSession::kMaxSubscriptions; ++i)
    many.filters.push_back({own + std::to_string(i), 1});
  auto suback = std::get<mqtt::Suback>(session_.on_packet(many).send.at(0));
  ASSERT_EQ(suback.return_codes.size(), DeviceSession::kMaxSubscriptions + 1);
  EXPECT_EQ(suback.return_codes.back(), mqtt::kSubackFailure);
  EXPECT_EQ(suback.return_codes.front(), 1);
  expect_last_refusal(Reason::limit_exceeded);
  // One it already holds is granted again; a new one is not.
  auto again = std::get<mqtt::Suback>(
      session_.on_packet(mqtt::Subscribe{7, {{own + "0", 1}, {own + "x", 1}}}).send.at(0));
  EXPECT_EQ(again.return_codes, (std::vector<std::uint8_t>{1, mqtt::kSubackFailure}));
}

TEST_F(DeviceSessionTest, OneSubscribeWithManyRefusedFiltersIsOneRefusal) {
  connect();
  mqtt::Subscribe many{8, {}};
  for (int i = 0; i < 1000; ++i)
    many.filters.push_back({"devices/widget-002/messages/devicebound/" + std::to_string(i), 1});
  std::size_t before = services_.refusals.size();
  auto suback = std::get<mqtt::Suback>(session_.on_packet(many).send.at(0));
  EXPECT_EQ(suback.return_codes, std::vector<std::uint8_t>(1000, mqtt::kSubackFailure));
  ASSERT_EQ(services_.refusals.size(), before + 1);
  EXPECT_NE(services_.refusals.back().detail().find("and 999 more"), std::string::npos);
}

TEST_F(DeviceSessionTest, NoCloudToDeviceWithoutSubscription) {
  connect();
  EXPECT_FALSE(session_.session.cloud_to_device("", "hello"));
}

// An operator's C2D properties and method names become topic levels: what
// would make no topic name, or more than one level, is refused before it is
// queued (with the reason and what was wrong), never sent as a packet the
// device must refuse.
TEST(OutboundTopics, OperatorInputThatMakesNoTopicNameIsRefused) {
  EXPECT_EQ(c2d_properties_problem("widget-001", "%24.to=x&a=1"), std::nullopt);
  EXPECT_EQ(c2d_properties_problem("widget-001", ""), std::nullopt);
  for (std::string bad : std::vector<std::string>{"a=b+c", "x#", std::string("a\0b", 3), std::string(70000, 'p')}) {
    auto problem = c2d_properties_problem("widget-001", bad);
    ASSERT_TRUE(problem) << bad.substr(0, 20);
    EXPECT_EQ(problem->reason(), Reason::malformed_request);
    EXPECT_NE(problem->detail().find("widget-001"), std::string::npos) << problem->detail();
  }
  EXPECT_EQ(method_name_problem("reboot"), std::nullopt);
  for (std::string bad : std::vector<std::string>{"", "a/b", "a?b", "re+boot", "#", std::string(70000, 'm')}) {
    auto problem = method_name_problem(bad);
    ASSERT_TRUE(problem) << bad.substr(0, 20);
    EXPECT_EQ(problem->reason(), Reason::malformed_request);
    EXPECT_NE(problem->detail().find("method name"), std::string::npos) << problem->detail();
  }
}

TEST_F(DeviceSessionTest, TwinGetAndReportedPatch) {
  connect();
  auto get = session_.on_packet(mqtt::Publish{"$iothub/twin/GET/?$rid=7", "", 0, false, false, 0});
  EXPECT_EQ(std::get<mqtt::Publish>(get.send.at(0)).topic, "$iothub/twin/res/200/?$rid=7");
  auto patch = session_.on_packet(mqtt::Publish{"%24iothub/twin/PATCH/properties/reported/?$rid=8",
                                                "{\"fw\":\"1.2\"}", 0, false, false, 0});
  EXPECT_EQ(std::get<mqtt::Publish>(patch.send.at(0)).topic, "$iothub/twin/res/204/?$rid=8&$version=2");
}

TEST_F(DeviceSessionTest, ARequestIdThatCouldNotBeEchoedIsRefused) {
  connect();
  // It fits the request's topic, but the reply's topic would pass 64 KB.
  auto out = session_.on_packet(mqtt::Publish{"$iothub/twin/GET/?$rid=" + std::string(65510, '7'),
                                              "", 0, false, false, 0});
  EXPECT_TRUE(out.close);
  EXPECT_TRUE(out.send.empty());
  expect_last_refusal(Reason::malformed_packet);
}

TEST_F(DeviceSessionTest, DirectMethodsAndTheirResponses) {
  connect();
  EXPECT_FALSE(session_.session.method_request("reboot", "1", "{}")) << "not subscribed yet";
  session_.on_packet(mqtt::Subscribe{2, {{"$iothub/methods/POST/#", 0}}});
  auto request = session_.session.method_request("reboot", "17", "{\"delay\":5}");
  ASSERT_TRUE(request);
  EXPECT_EQ(std::get<mqtt::Publish>(*request).topic, "$iothub/methods/POST/reboot/?$rid=17");
  auto out = session_.on_packet(mqtt::Publish{"%24iothub/methods/res/200/?$rid=17",
                                              "{\"ok\":true}", 0, false, false, 0});
  EXPECT_TRUE(out.send.empty());
  EXPECT_FALSE(out.close);
  ASSERT_EQ(services_.answers.size(), 1u);
  EXPECT_EQ(services_.answers[0].request_id, "17");
  EXPECT_EQ(services_.answers[0].status, 200);
  EXPECT_EQ(services_.answers[0].payload, "{\"ok\":true}");
  // A status that is not a whole number (or does not fit one) is refused by
  // name and delivered to no one; the connection stays.
  for (std::string status : {"abc", "99999999999999999999", "", "2x0", "-"}) {
    auto bad = session_.on_packet(mqtt::Publish{"$iothub/methods/res/" + status + "/?$rid=18",
                                                "{}", 0, false, false, 0});
    EXPECT_FALSE(bad.close) << status;
    expect_last_refusal(Reason::malformed_packet);
  }
  EXPECT_EQ(services_.answers.size(), 1u);
  session_.on_packet(mqtt::Publish{"$iothub/methods/res/-1/?$rid=19", "{}", 0, false, false, 0});
  ASSERT_EQ(services_.answers.size(), 2u);
  EXPECT_EQ(services_.answers[1].status, -1);
}

TEST_F(DeviceSessionTest, PacketsBeforeConnectAndSecondConnectClose) {
  auto early = session_.on_packet(mqtt::Pingreq{});
  EXPECT_TRUE(early.close);
  expect_last_refusal(Reason::malformed_packet);
  FakeServices services;
  TestSession session(bare_identity(), services);
  session.on_packet(azure_connect());
  EXPECT_TRUE(session.on_packet(azure_connect()).close);
  EXPECT_TRUE(std::holds_alternative<mqtt::Pingresp>(session.on_packet(mqtt::Pingreq{}).send.at(0)));
}

} // namespace
} // namespace chainlab::hub
