// MQTT 3.1.1 codec: round trips of every packet, and malformed bytes (bad
// remaining length, truncated strings, oversized packets, bad flags).
#include <gtest/gtest.h>

#include "core/byte_reader.hpp"
#include "mqtt/codec.hpp"

namespace chainlab::mqtt {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values)
    out.push_back(std::uint8_t(v));
  return out;
}

// encoded: the wire form of a packet the encoder must accept.
Bytes encoded(const Packet &packet) {
  auto wire = encode(packet);
  EXPECT_TRUE(wire) << wire.error().what();
  return wire ? wire.value() : Bytes{};
}

void expect_round_trip(const Packet &packet) {
  Bytes wire = encoded(packet);
  auto decoded = decode(wire);
  ASSERT_TRUE(decoded) << decoded.error().what();
  EXPECT_TRUE(decoded.value() == packet) << "packet index " << packet.index();
}

TEST(MqttCodec, RoundTrips) {
  Connect azure;
  azure.client_id = "widget-001";
  azure.username = "localhost:8883/widget-001/?api-version=2021-04-12";
  azure.keep_alive = 180;
  azure.clean_session = false;
  expect_round_trip(azure);
  Connect with_will = azure;
  with_will.will = Will{"devices/widget-001/messages/events/", "bye", 1, true};
  with_will.password = std::string("\0\1\2", 3);
  expect_round_trip(with_will);
  expect_round_trip(Connack{true, ConnackCode::not_authorized});
  expect_round_trip(Publish{"devices/widget-001/messages/events/", "{\"t\":21.5}", 0, false, false, 0});
  expect_round_trip(Publish{"devices/widget-001/messages/events/a=b", std::string(70000, 'x'), 1, true, true, 7});
  expect_round_trip(Puback{65535});
  expect_round_trip(Subscribe{3, {{"devices/widget-001/messages/devicebound/#", 1}, {"$iothub/twin/res/#", 0}}});
  expect_round_trip(Suback{3, {1, kSubackFailure}});
  expect_round_trip(Unsubscribe{4, {"$iothub/methods/POST/#"}});
  expect_round_trip(Unsuback{4});
  expect_round_trip(Pingreq{});
  expect_round_trip(Pingresp{});
  expect_round_trip(Disconnect{});
}

TEST(MqttCodec, RemainingLengthEncodingBoundaries) {
  for (std::size_t size : {0u, 127u, 128u, 16383u, 16384u, 200000u}) {
    Bytes wire = encoded(Publish{"t", std::string(size, 'p'), 0, false, false, 0});
    Frame frame = read_frame(wire, 1 << 20);
    EXPECT_EQ(frame.status, Frame::Status::complete);
    EXPECT_EQ(frame.total_size(), wire.size()) << size;
  }
}

TEST(MqttCodec, IncompleteFramesWaitForMoreBytes) {
  Bytes wire = encoded(Publish{"topic", "payload", 0, false, false, 0});
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    Frame frame = read_frame(std::span(wire).first(cut));
    EXPECT_EQ(frame.status, Frame::Status::incomplete) << cut;
  }
}

struct MalformedCase {
  std::string name;
  Bytes wire;
  Reason reason = Reason::malformed_packet;
  std::string mentions;
};

TEST(MqttCodec, MalformedBytesAreRefusedWithAReason) {
  std::vector<MalformedCase> cases = {
      {"fail/remaining-length-five-bytes", bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01}),
       Reason::malformed_packet, "four bytes"},
      {"fail/oversized-packet", bytes({0x30, 0xff, 0xff, 0xff, 0x7f}), Reason::packet_too_large,
       "exceeds"},
      {"fail/truncated-packet", bytes({0x30, 0x05, 0x00, 0x01}), Reason::malformed_packet,
       "truncated"},
      {"fail/truncated-topic-string", bytes({0x30, 0x03, 0x00, 0x09, 'a'}), Reason::malformed_packet,
       "topic"},
      {"fail/truncated-client-id",
       bytes({0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 0x20, 'w', 'x'}),
       Reason::malformed_packet, "client identifier"},
      {"fail/connect-reserved-flag",
       bytes({0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 60, 0, 0}),
       Reason::malformed_packet, "reserved"},
      {"fail/password-without-username",
       bytes({0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x42, 0, 60, 0, 0, 0, 0}),
       Reason::malformed_packet, "password"},
      {"fail/topic-with-nul", bytes({0x30, 0x04, 0x00, 0x02, 'a', 0x00}), Reason::malformed_packet,
       "topic"},
      {"fail/topic-invalid-utf8", bytes({0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf}),
       Reason::malformed_packet, "topic"},
      {"fail/publish-wildcard", bytes({0x30, 0x05, 0x00, 0x03, 'a', '/', '#'}),
       Reason::malformed_packet, "wildcard"},
      {"fail/publish-qos3", bytes({0x36, 0x03, 0x00, 0x01, 'a'}), Reason::malformed_packet, "QoS 3"},
      {"fail/publish-qos1-zero-id", bytes({0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00}),
       Reason::malformed_packet, "packet identifier"},
      {"fail/subscribe-wrong-flags", bytes({0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}),
       Reason::malformed_packet, "flags"},
      {"fail/subscribe-without-filter", bytes({0x82, 0x02, 0x00, 0x01}), Reason::malformed_packet,
       "no topic filter"},
      {"fail/subscribe-bad-qos", bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03}),
       Reason::malformed_packet, "QoS"},
      {"fail/pingreq-with-body", bytes({0xc0, 0x01, 0x00}), Reason::malformed_packet, "no body"},
      {"fail/trailing-bytes", bytes({0xe0, 0x00, 0x00}), Reason::malformed_packet, "after"},
      {"fail/qos2-flow", bytes({0x50, 0x02, 0x00, 0x01}), Reason::malformed_packet, "QoS 2"},
      {"fail/reserved-type-15", bytes({0xf0, 0x00}), Reason::malformed_packet, "reserved"},
  };
  for (const auto &c : cases) {
    auto decoded = decode(c.wire, 1024);
    ASSERT_FALSE(decoded) << c.name << " was accepted";
    EXPECT_EQ(decoded.error().reason(), c.reason) << c.name << ": " << decoded.error().what();
    EXPECT_NE(decoded.error().detail().find(c.mentions), std::string::npos)
        << c.name << ": " << decoded.error().detail();
  }
}

// The encoder refuses what MQTT cannot carry or its own decoder would
// refuse, naming the packet and field, instead of writing a truncated
// 16-bit length (topics echo what devices and operators send).
TEST(MqttCodec, EncodeRefusesWhatMqttCannotCarry) {
  struct Case {
    std::string name;
    Packet packet;
    std::string mentions;
  };
  Connect long_password;
  long_password.username = "u";
  long_password.password = std::string(65536, 'p');
  Connect nul_client_id;
  nul_client_id.client_id = std::string("a\0b", 3);
  std::vector<Case> cases = {
      {"topic over 64 KiB", Publish{std::string(65536, 't'), "", 0, false, false, 0},
       "PUBLISH: topic name of 65536 bytes"},
      {"wildcard topic", Publish{"devices/d/messages/devicebound/a+b", "", 1, false, false, 1},
       "wildcard"},
      {"empty topic", Publish{"", "x", 0, false, false, 0}, "empty"},
      {"topic not UTF-8", Publish{"a\xc0\xaf", "", 0, false, false, 0}, "UTF-8"},
      {"filter over 64 KiB", Subscribe{1, {{std::string(70000, 'f'), 1}}}, "topic filter of 70000"},
      {"password over 64 KiB", long_password, "CONNECT: password of 65536 bytes"},
      {"client ID with U+0000", nul_client_id, "client identifier"},
  };
  for (const auto &c : cases) {
    auto wire = encode(c.packet);
    ASSERT_FALSE(wire) << c.name << " was encoded";
    EXPECT_EQ(wire.error().reason(), Reason::malformed_packet) << c.name;
    EXPECT_NE(wire.error().detail().find(c.mentions), std::string::npos)
        << c.name << ": " << wire.error().detail();
  }
  // The largest string MQTT carries still round-trips.
  expect_round_trip(Publish{std::string(65535, 't'), "p", 1, false, false, 9});
  EXPECT_EQ(topic_name_problem("devices/widget-001/messages/events/"), std::nullopt);
}

// MQTT's remaining length has four 7-bit digits: 268,435,455 bytes at most.
// A packet that size is written with the four-digit header; one byte more is
// packet_too_large, never a wrapped length on the wire.
TEST(MqttCodec, EncodeStopsAtMqttsLargestPacket) {
  constexpr std::size_t kLargest = 268435455;
  const std::string topic = "devices/d/messages/devicebound/";
  Publish largest{topic, std::string(kLargest - 2 - topic.size(), 'x'), 0, false, false, 0};
  auto wire = encode(largest);
  ASSERT_TRUE(wire) << wire.error().detail();
  EXPECT_EQ(wire.value().size(), 5 + kLargest);
  EXPECT_EQ(std::vector<std::uint8_t>(wire.value().begin(), wire.value().begin() + 5),
            (std::vector<std::uint8_t>{0x30, 0xff, 0xff, 0xff, 0x7f}));
  wire = Result<std::vector<std::uint8_t>>(std::vector<std::uint8_t>{}); // free it first
  largest.payload.push_back('x');
  auto refused = encode(largest);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason(), Reason::packet_too_large);
  EXPECT_NE(refused.error().detail().find("PUBLISH of 268435456 bytes"), std::string::npos)
      << refused.error().detail();
}

TEST(MqttCodec, AnEncodingInARecycledBufferIsTheSameAsInAFreshOne) {
  // The hub encodes a busy device's PUBACKs into its spent write buffers.
  std::vector<Packet> packets = {Puback{9}, Publish{"devices/d/messages/devicebound/", "hi", 1,
                                                    false, false, 3},
                                 Pingresp{}, Connack{false, ConnackCode::accepted}};
  for (const auto &packet : packets) {
    std::vector<std::uint8_t> spent(300, 0xAB);
    const auto *storage = spent.data();
    auto recycled = encode(packet, std::move(spent));
    ASSERT_TRUE(recycled.ok());
    EXPECT_EQ(recycled.value(), encode(packet).value());
    EXPECT_EQ(recycled.value().data(), storage); // the same memory, no new buffer
  }
}

// decoded_into: |wire| (one whole packet) decoded into |into|.
std::optional<Error> decoded_into(const Bytes &wire, Packet &into) {
  auto frame = read_frame(wire);
  return decode_packet_into(frame.first_byte,
                            std::span(wire).subspan(frame.header_size, frame.remaining_length),
                            into);
}

TEST(MqttCodec, DecodingIntoAPacketGivesWhatDecodingGivesAndReusesAPublishsStrings) {
  // The hub decodes a busy device's packets into one kept packet.
  std::vector<Packet> stream = {
      Publish{"devices/widget-001/messages/events/a=b", std::string(300, 'x'), 1, true, true, 7},
      Publish{"devices/widget-001/messages/events/", "{}", 0, false, false, 0},
      Pingreq{},
      Publish{"devices/widget-001/messages/events/", "after a PINGREQ", 1, false, false, 8},
      Subscribe{3, {{"$iothub/twin/res/#", 0}}}};
  Packet into;
  for (const auto &packet : stream) {
    auto error = decoded_into(encoded(packet), into);
    ASSERT_FALSE(error) << error->what();
    EXPECT_TRUE(into == packet) << "packet index " << packet.index();
  }
  Packet kept = Publish{"devices/widget-001/messages/events/", std::string(300, 'x'), 1, false,
                        false, 1};
  const char *storage = std::get<Publish>(kept).payload.data();
  ASSERT_FALSE(decoded_into(encoded(stream[1]), kept));
  EXPECT_EQ(std::get<Publish>(kept).payload.data(), storage); // no new payload buffer
  auto refused = decoded_into(bytes({0x36, 0x03, 0x00, 0x01, 'a'}), kept); // QoS 3
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason(), Reason::malformed_packet);
}

TEST(MqttCodec, Utf8Rules) {
  EXPECT_TRUE(is_valid_utf8("widget-001"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8(std::string("a\0b", 3)));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));         // truncated
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
}

TEST(MqttCodec, TopicFilters) {
  EXPECT_TRUE(topic_matches("devices/w/messages/devicebound/#", "devices/w/messages/devicebound/a=1"));
  EXPECT_TRUE(topic_matches("devices/w/messages/devicebound/#", "devices/w/messages/devicebound"));
  EXPECT_TRUE(topic_matches("$iothub/methods/POST/#", "$iothub/methods/POST/reboot/?$rid=1"));
  EXPECT_TRUE(topic_matches("a/+/c", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/+/c", "a/b/d"));
  EXPECT_FALSE(topic_matches("a/b", "a"));
  EXPECT_FALSE(topic_matches("a", "a/b"));
  EXPECT_FALSE(topic_matches("devices/w/#", "devices/x/messages"));
}

} // namespace
} // namespace chainlab::mqtt

namespace chainlab::mqtt {
namespace {

TEST(TopicQuery, ReadsOneKeyExactly) {
  EXPECT_EQ(topic_query_value("$iothub/twin/res/200/?$rid=7&$version=2", "$rid"), "7");
  EXPECT_EQ(topic_query_value("$iothub/twin/res/204/?$rid=7&$version=2", "$version"), "2");
  EXPECT_EQ(topic_query_value("$iothub/methods/POST/m/?x$rid=1", "$rid"), "");
  EXPECT_EQ(topic_query_value("devices/d/messages/events/", "$rid"), "");
  EXPECT_EQ(topic_query_value("t/?$rid", "$rid"), "");
}

} // namespace
} // namespace chainlab::mqtt
