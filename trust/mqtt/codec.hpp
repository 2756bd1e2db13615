// mqtt/codec.hpp: MQTT 3.1.1 framing and packets as pure functions over
// byte spans. Malformed input is an Error(malformed_packet) that says what
// was wrong and where; nothing here touches a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "mqtt/packets.hpp"

namespace chainlab::mqtt {

inline constexpr std::size_t kDefaultMaxPacketSize = 256 * 1024; // Azure IoT Hub's limit

// FrameStatus says whether |bytes| begin with a whole packet yet.
struct Frame {
  enum class Status { incomplete, complete } status = Status::incomplete;
  std::uint8_t first_byte = 0;
  std::size_t header_size = 0;      // fixed header: type byte + length bytes
  std::size_t remaining_length = 0; // variable header + payload
  std::size_t total_size() const { return header_size + remaining_length; }
};

// read_frame looks at the start of |bytes|. Throws Error(malformed_packet)
// for a remaining length over four bytes, Error(packet_too_large) above
// |max_packet_size|.
Frame read_frame(std::span<const std::uint8_t> bytes,
                 std::size_t max_packet_size = kDefaultMaxPacketSize);

// decode_packet parses one whole packet (as located by read_frame).
Result<Packet> decode_packet(std::uint8_t first_byte, std::span<const std::uint8_t> body);
// decode_packet_into is decode_packet into |packet|, for a reader that
// decodes every packet into the same one: a PUBLISH decoded into a packet
// that holds a PUBLISH reuses its strings' capacity. After an Error,
// |packet| holds nothing meaningful.
std::optional<Error> decode_packet_into(std::uint8_t first_byte,
                                        std::span<const std::uint8_t> body, Packet &packet);
// decode is read_frame + decode_packet for a buffer holding exactly one packet.
Result<Packet> decode(std::span<const std::uint8_t> bytes,
                      std::size_t max_packet_size = kDefaultMaxPacketSize);

// encode writes one packet. A string field over 65,535 bytes is an
// Error(malformed_packet) naming the packet and field, and a packet past
// MQTT's largest remaining length an Error(packet_too_large): callers build
// topics from what devices and operators send. |recycled| is a buffer done
// with whose capacity the packet may use (a sender's spent write buffer).
Result<std::vector<std::uint8_t>> encode(const Packet &packet,
                                         std::vector<std::uint8_t> recycled = {});

// topic_query_value reads KEY's value from the "?a=1&b=2" tail of an Azure
// IoT Hub topic ("$rid" of a twin or method request); "" when absent.
std::string topic_query_value(std::string_view topic, std::string_view key);

// topic_name_problem says why |topic| cannot be a PUBLISH topic name (empty,
// over 64 KiB, not UTF-8, a wildcard), as a phrase after "topic name";
// nullopt when it can.
std::optional<std::string> topic_name_problem(std::string_view topic);

// topic_matches applies MQTT wildcards (+ and #) of |filter| to |topic|.
bool topic_matches(std::string_view filter, std::string_view topic);

} // namespace chainlab::mqtt
