// MQTT codec: what decodes must re-encode to something that decodes to the
// same packet, and topic matching must cope with any topic and filter.
#include <variant>

#include "fuzz/fuzz_input.hpp"
#include "mqtt/codec.hpp"

using namespace chainlab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
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
