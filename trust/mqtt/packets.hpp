// mqtt/packets.hpp: MQTT 3.1.1 control packets as plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace chainlab::mqtt {

enum class PacketType : std::uint8_t {
  connect = 1, connack = 2, publish = 3, puback = 4, pubrec = 5, pubrel = 6,
  pubcomp = 7, subscribe = 8, suback = 9, unsubscribe = 10, unsuback = 11,
  pingreq = 12, pingresp = 13, disconnect = 14,
};

// CONNACK return codes (3.2.2.3).
enum class ConnackCode : std::uint8_t {
  accepted = 0,
  unacceptable_protocol = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_username_or_password = 4,
  not_authorized = 5,
};

struct Will {
  std::string topic;
  std::string message;
  std::uint8_t qos = 0;
  bool retain = false;
  bool operator==(const Will &) const = default;
};

struct Connect {
  std::string protocol_name = "MQTT";
  std::uint8_t protocol_level = 4;
  bool clean_session = true;
  std::uint16_t keep_alive = 60;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool operator==(const Connect &) const = default;
};

struct Connack {
  bool session_present = false;
  ConnackCode code = ConnackCode::accepted;
  bool operator==(const Connack &) const = default;
};

struct Publish {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0; // QoS 1 and 2 only
  bool operator==(const Publish &) const = default;
};

struct Puback {
  std::uint16_t packet_id = 0;
  bool operator==(const Puback &) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::pair<std::string, std::uint8_t>> filters; // (filter, QoS)
  bool operator==(const Subscribe &) const = default;
};

inline constexpr std::uint8_t kSubackFailure = 0x80;
struct Suback {
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> return_codes; // granted QoS, or kSubackFailure
  bool operator==(const Suback &) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
  bool operator==(const Unsubscribe &) const = default;
};

struct Unsuback {
  std::uint16_t packet_id = 0;
  bool operator==(const Unsuback &) const = default;
};

struct Pingreq { bool operator==(const Pingreq &) const = default; };
struct Pingresp { bool operator==(const Pingresp &) const = default; };
struct Disconnect { bool operator==(const Disconnect &) const = default; };

using Packet = std::variant<Connect, Connack, Publish, Puback, Subscribe, Suback,
                            Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect>;

} // namespace chainlab::mqtt
