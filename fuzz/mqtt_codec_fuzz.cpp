// MQTT codec: what decodes must re-encode to something that decodes to the
// same packet, decoding into a kept packet (as a busy connection does) must
// give what decoding afresh gives, and topic matching must cope with any
// topic and filter.
#include <variant>

#include "fuzz/fuzz_input.hpp"
#include "mqtt/codec.hpp"

using namespace chainlab;

namespace {

// A connection decodes each packet into the one it keeps: whatever that
// packet held before (here a PUBLISH with every field set), the outcome
// must be decode_packet's.
void require_same_when_decoded_into_a_kept_packet(std::span<const std::uint8_t> bytes) {
  mqtt::Frame frame;
  try {
    frame = mqtt::read_frame(bytes);
  } catch (const Error &) {
    return;
  }
  if (frame.status != mqtt::Frame::Status::complete)
    return;
  auto body = bytes.subspan(frame.header_size, frame.remaining_length);
  auto fresh = mqtt::decode_packet(frame.first_byte, body);
  mqtt::Packet kept = mqtt::Publish{std::string(300, 't'), std::string(300, 'p'), 1, true, true, 7};
  auto error = mqtt::decode_packet_into(frame.first_byte, body, kept);
  fuzz::require(bool(error) == !fresh, "decode_packet_into and decode_packet disagree");
  if (fresh)
    fuzz::require(kept == fresh.value(), "a packet decoded into a kept one differs");
  else
    fuzz::require(error->reason() == fresh.error().reason(), "the two decoders refuse differently");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  require_same_when_decoded_into_a_kept_packet(bytes);
  Result<mqtt::Packet> first = Error(Reason::malformed_packet, "not decoded");
  try {
    first = mqtt::decode(bytes);
  } catch (const Error &) { // read_frame refuses a bad length this way
    return 0;
  }
  if (!first)
    return 0;
  auto encoded = mqtt::encode(first.value());
  fuzz::require(bool(encoded), "a decoded packet does not encode");
  Result<mqtt::Packet> second = mqtt::decode(encoded.value());
  fuzz::require(bool(second), "a decoded packet re-encodes to bytes that do not decode");
  fuzz::require(second.value() == first.value(), "decode(encode(packet)) differs from packet");

  if (const auto *publish = std::get_if<mqtt::Publish>(&first.value()))
    mqtt::topic_matches(publish->topic, publish->topic);
  if (const auto *subscribe = std::get_if<mqtt::Subscribe>(&first.value()))
    for (const auto &[filter, qos] : subscribe->filters)
      mqtt::topic_matches(filter, "devices/widget-001/messages/events/");
  return 0;
}
