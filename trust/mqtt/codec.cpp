#include "mqtt/codec.hpp"

#include <algorithm>
#include <optional>

#include "core/byte_reader.hpp"

namespace chainlab::mqtt {
namespace {

Error malformed(const std::string &packet, const std::string &what) {
  return Error(Reason::malformed_packet, packet + ": " + what);
}

// ---- decoding, one function per packet type ----

Result<Packet> decode_connect(ByteReader &in) {
  Connect connect;
  std::uint8_t flags = 0;
  if (!in.read_utf8(connect.protocol_name))
    return malformed("CONNECT", "truncated or invalid protocol name");
  if (!in.read_u8(connect.protocol_level) || !in.read_u8(flags) ||
      !in.read_u16(connect.keep_alive))
    return malformed("CONNECT", "truncated variable header");
  if (flags & 0x01)
    return malformed("CONNECT", "reserved flag bit 0 is set");
  bool has_will = flags & 0x04, has_password = flags & 0x40, has_username = flags & 0x80;
  std::uint8_t will_qos = (flags >> 3) & 0x03;
  if (will_qos == 3)
    return malformed("CONNECT", "will QoS 3 is invalid");
  if (!has_will && (will_qos != 0 || (flags & 0x20)))
    return malformed("CONNECT", "will QoS/retain set without a will");
  if (has_password && !has_username)
    return malformed("CONNECT", "password flag without username flag");
  connect.clean_session = flags & 0x02;
  if (!in.read_utf8(connect.client_id))
    return malformed("CONNECT", "truncated or invalid client identifier");
  if (has_will) {
    Will will{{}, {}, will_qos, bool(flags & 0x20)};
    if (!in.read_utf8(will.topic) || !in.read_binary(will.message))
      return malformed("CONNECT", "truncated will topic or message");
    connect.will = will;
  }
  if (has_username) {
    std::string username;
    if (!in.read_utf8(username))
      return malformed("CONNECT", "truncated or invalid user name");
    connect.username = username;
  }
  if (has_password) {
    std::string password;
    if (!in.read_binary(password))
      return malformed("CONNECT", "truncated password");
    connect.password = password;
  }
  if (in.remaining() != 0)
    return malformed("CONNECT", std::to_string(in.remaining()) + " trailing bytes");
  return Packet(connect);
}

// decode_publish_into fills every field of |publish|, reusing its strings.
std::optional<Error> decode_publish_into(std::uint8_t flags, ByteReader &in, Publish &publish) {
  publish.dup = flags & 0x08;
  publish.qos = (flags >> 1) & 0x03;
  publish.retain = flags & 0x01;
  publish.packet_id = 0;
  if (publish.qos == 3)
    return malformed("PUBLISH", "QoS 3 is invalid");
  if (publish.qos == 2)
    return malformed("PUBLISH", "QoS 2 is not supported (IoT hubs take QoS 0 and 1)");
  if (!in.read_utf8(publish.topic))
    return malformed("PUBLISH", "truncated or invalid topic name");
  if (auto problem = topic_name_problem(publish.topic))
    return malformed("PUBLISH", "topic name " + *problem);
  if (publish.qos > 0 && (!in.read_u16(publish.packet_id) || publish.packet_id == 0))
    return malformed("PUBLISH", "QoS 1 needs a non-zero packet identifier");
  auto payload = in.rest();
  publish.payload.assign(reinterpret_cast<const char *>(payload.data()), payload.size());
  return std::nullopt;
}

Result<Packet> decode_publish(std::uint8_t flags, ByteReader &in) {
  Publish publish;
  if (auto error = decode_publish_into(flags, in, publish))
    return *error;
  return Packet(std::move(publish));
}

Result<Packet> decode_subscribe(ByteReader &in, bool unsubscribe) {
  const char *name = unsubscribe ? "UNSUBSCRIBE" : "SUBSCRIBE";
  std::uint16_t packet_id = 0;
  if (!in.read_u16(packet_id) || packet_id == 0)
    return malformed(name, "missing or zero packet identifier");
  Subscribe subscribe{packet_id, {}};
  Unsubscribe unsub{packet_id, {}};
  while (in.remaining() > 0) {
    std::string filter;
    if (!in.read_utf8(filter) || filter.empty())
      return malformed(name, "truncated, empty or invalid topic filter");
    if (unsubscribe) {
      unsub.filters.push_back(filter);
      continue;
    }
    std::uint8_t qos = 0;
    if (!in.read_u8(qos))
      return malformed(name, "topic filter \"" + filter + "\" lacks its QoS byte");
    if (qos > 2)
      return malformed(name, "requested QoS byte " + std::to_string(qos) + " is invalid");
    subscribe.filters.emplace_back(filter, qos);
  }
  if (unsubscribe ? unsub.filters.empty() : subscribe.filters.empty())
    return malformed(name, "no topic filter");
  return unsubscribe ? Packet(unsub) : Packet(subscribe);
}

Result<Packet> decode_packet_id_only(PacketType type, ByteReader &in) {
  std::uint16_t packet_id = 0;
  const char *name = type == PacketType::puback ? "PUBACK" : "UNSUBACK";
  if (!in.read_u16(packet_id) || in.remaining() != 0)
    return malformed(name, "expected exactly a packet identifier");
  if (type == PacketType::puback)
    return Packet(Puback{packet_id});
  return Packet(Unsuback{packet_id});
}

Result<Packet> decode_connack(ByteReader &in) {
  std::uint8_t acknowledge = 0, code = 0;
  if (!in.read_u8(acknowledge) || !in.read_u8(code) || in.remaining() != 0)
    return malformed("CONNACK", "expected exactly two bytes");
  if (acknowledge & 0xfe || code > 5)
    return malformed("CONNACK", "reserved bits or unknown return code");
  return Packet(Connack{bool(acknowledge & 1), ConnackCode(code)});
}

Result<Packet> decode_suback(ByteReader &in) {
  Suback suback;
  if (!in.read_u16(suback.packet_id))
    return malformed("SUBACK", "missing packet identifier");
  std::uint8_t code = 0;
  while (in.read_u8(code))
    suback.return_codes.push_back(code);
  if (suback.return_codes.empty())
    return malformed("SUBACK", "no return code");
  return Packet(suback);
}

std::uint8_t required_flags(PacketType type) {
  return type == PacketType::subscribe || type == PacketType::unsubscribe ||
                 type == PacketType::pubrel
             ? 0x02
             : 0x00;
}

// ---- encoding ----

inline constexpr std::size_t kMaxString = 0xffff;           // a 16-bit length prefix
inline constexpr std::size_t kMaxRemainingLength = 268435455; // four length bytes
inline constexpr std::size_t kMaxFixedHeader = 5;

// PacketWriter builds one packet in one buffer: the body goes after room for
// the largest fixed header, which finish() fills in and trims. A field MQTT
// cannot carry (a string over 64 KiB) is an Error naming the packet and the
// field, never a truncated length on the wire.
class PacketWriter {
public:
  // |recycled|: a buffer done with, whose capacity is used again.
  PacketWriter(const char *packet, std::size_t body_size_hint,
               std::vector<std::uint8_t> &&recycled)
      : packet_(packet), out_(std::move(recycled)) {
    out_.clear();
    out_.reserve(kMaxFixedHeader + body_size_hint);
    out_.resize(kMaxFixedHeader);
  }
  void u8(std::uint8_t value) { out_.push_back(value); }
  void u16(std::uint16_t value) {
    out_.push_back(std::uint8_t(value >> 8));
    out_.push_back(std::uint8_t(value & 0xff));
  }
  // binary: a length-prefixed field (a password, a will message).
  void binary(std::string_view data, const char *field) {
    if (data.size() > kMaxString)
      fail(std::string(field) + " of " + std::to_string(data.size()) +
           " bytes does not fit MQTT's 16-bit length (at most 65,535)");
    u16(std::uint16_t(data.size()));
    bytes(data);
  }
  // utf8: a length-prefixed string, which MQTT wants as UTF-8 without U+0000.
  void utf8(std::string_view text, const char *field) {
    if (!is_valid_utf8(text))
      fail(std::string(field) + " is not valid UTF-8 or holds U+0000");
    binary(text, field);
  }
  void fail(const std::string &what) {
    if (!error_)
      error_ = malformed(packet_, what);
  }
  void bytes(std::string_view data) { out_.insert(out_.end(), data.begin(), data.end()); }
  void bytes(std::span<const std::uint8_t> data) { out_.insert(out_.end(), data.begin(), data.end()); }

  Result<std::vector<std::uint8_t>> finish(std::uint8_t first_byte) && {
    if (error_)
      return *error_;
    std::size_t length = out_.size() - kMaxFixedHeader;
    if (length > kMaxRemainingLength)
      return Error(Reason::packet_too_large, std::string(packet_) + " of " +
                                                 std::to_string(length) +
                                                 " bytes exceeds MQTT's largest packet");
    std::uint8_t header[kMaxFixedHeader] = {first_byte};
    std::size_t header_size = 1;
    do {
      std::uint8_t digit = length % 128;
      length /= 128;
      header[header_size++] = length > 0 ? digit | 0x80 : digit;
    } while (length > 0);
    std::size_t start = kMaxFixedHeader - header_size;
    std::copy(header, header + header_size, out_.begin() + std::ptrdiff_t(start));
    out_.erase(out_.begin(), out_.begin() + std::ptrdiff_t(start));
    return std::move(out_);
  }

private:
  const char *packet_;
  std::vector<std::uint8_t> out_;
  std::optional<Error> error_;
};

using Encoded = Result<std::vector<std::uint8_t>>;

Encoded packet_id_only(const char *name, std::uint8_t first_byte, std::uint16_t packet_id,
                       std::vector<std::uint8_t> &&recycled) {
  PacketWriter out(name, 2, std::move(recycled));
  out.u16(packet_id);
  return std::move(out).finish(first_byte);
}

Encoded no_body(const char *name, std::uint8_t first_byte, std::vector<std::uint8_t> &&recycled) {
  return PacketWriter(name, 0, std::move(recycled)).finish(first_byte);
}

struct Encoder {
  std::vector<std::uint8_t> &recycled;
  Encoded operator()(const Connect &c) const {
    PacketWriter out("CONNECT", 64 + c.client_id.size() + (c.username ? c.username->size() : 0) +
                                    (c.password ? c.password->size() : 0),
                     std::move(recycled));
    out.utf8(c.protocol_name, "protocol name");
    out.u8(c.protocol_level);
    std::uint8_t flags = c.clean_session ? 0x02 : 0;
    if (c.will)
      flags |= 0x04 | std::uint8_t(c.will->qos << 3) | (c.will->retain ? 0x20 : 0);
    if (c.password)
      flags |= 0x40;
    if (c.username)
      flags |= 0x80;
    out.u8(flags);
    out.u16(c.keep_alive);
    out.utf8(c.client_id, "client identifier");
    if (c.will) {
      out.utf8(c.will->topic, "will topic");
      out.binary(c.will->message, "will message");
    }
    if (c.username)
      out.utf8(*c.username, "user name");
    if (c.password)
      out.binary(*c.password, "password");
    return std::move(out).finish(0x10);
  }
  Encoded operator()(const Connack &c) const {
    PacketWriter out("CONNACK", 2, std::move(recycled));
    out.u8(std::uint8_t(c.session_present));
    out.u8(std::uint8_t(c.code));
    return std::move(out).finish(0x20);
  }
  Encoded operator()(const Publish &p) const {
    PacketWriter out("PUBLISH", 4 + p.topic.size() + p.payload.size(), std::move(recycled));
    if (auto problem = topic_name_problem(p.topic))
      out.fail("topic name " + *problem);
    out.utf8(p.topic, "topic name");
    if (p.qos > 0)
      out.u16(p.packet_id);
    out.bytes(p.payload);
    return std::move(out).finish(
        std::uint8_t(0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0)));
  }
  Encoded operator()(const Puback &p) const {
    return packet_id_only("PUBACK", 0x40, p.packet_id, std::move(recycled));
  }
  Encoded operator()(const Subscribe &s) const {
    PacketWriter out("SUBSCRIBE", 2 + 64 * s.filters.size(), std::move(recycled));
    out.u16(s.packet_id);
    for (const auto &[filter, qos] : s.filters) {
      out.utf8(filter, "topic filter");
      out.u8(qos);
    }
    return std::move(out).finish(0x82);
  }
  Encoded operator()(const Suback &s) const {
    PacketWriter out("SUBACK", 2 + s.return_codes.size(), std::move(recycled));
    out.u16(s.packet_id);
    out.bytes(std::span<const std::uint8_t>(s.return_codes));
    return std::move(out).finish(0x90);
  }
  Encoded operator()(const Unsubscribe &u) const {
    PacketWriter out("UNSUBSCRIBE", 2 + 64 * u.filters.size(), std::move(recycled));
    out.u16(u.packet_id);
    for (const auto &filter : u.filters)
      out.utf8(filter, "topic filter");
    return std::move(out).finish(0xa2);
  }
  Encoded operator()(const Unsuback &u) const {
    return packet_id_only("UNSUBACK", 0xb0, u.packet_id, std::move(recycled));
  }
  Encoded operator()(const Pingreq &) const {
    return no_body("PINGREQ", 0xc0, std::move(recycled));
  }
  Encoded operator()(const Pingresp &) const {
    return no_body("PINGRESP", 0xd0, std::move(recycled));
  }
  Encoded operator()(const Disconnect &) const {
    return no_body("DISCONNECT", 0xe0, std::move(recycled));
  }
};

} // namespace

Frame read_frame(std::span<const std::uint8_t> bytes, std::size_t max_packet_size) {
  Frame frame;
  if (bytes.empty())
    return frame;
  frame.first_byte = bytes[0];
  std::size_t length = 0, multiplier = 1;
  for (std::size_t i = 1;; ++i) {
    if (i > 4)
      throw Error(Reason::malformed_packet,
                  "fixed header: remaining length runs past four bytes");
    if (i >= bytes.size())
      return frame; // incomplete
    std::uint8_t digit = bytes[i];
    length += (digit & 0x7f) * multiplier;
    multiplier *= 128;
    if (!(digit & 0x80)) {
      frame.header_size = i + 1;
      break;
    }
  }
  frame.remaining_length = length;
  if (frame.total_size() > max_packet_size)
    throw Error(Reason::packet_too_large,
                "packet of " + std::to_string(frame.total_size()) +
                    " bytes exceeds the limit of " + std::to_string(max_packet_size));
  if (bytes.size() >= frame.total_size())
    frame.status = Frame::Status::complete;
  return frame;
}

Result<Packet> decode_packet(std::uint8_t first_byte, std::span<const std::uint8_t> body) {
  auto type = PacketType(first_byte >> 4);
  std::uint8_t flags = first_byte & 0x0f;
  ByteReader in(body);
  if (type != PacketType::publish && flags != required_flags(type))
    return malformed("packet type " + std::to_string(int(type)),
                     "fixed-header flags are " + std::to_string(flags) + ", must be " +
                         std::to_string(required_flags(type)));
  switch (type) {
  case PacketType::connect: return decode_connect(in);
  case PacketType::connack: return decode_connack(in);
  case PacketType::publish: return decode_publish(flags, in);
  case PacketType::puback:
  case PacketType::unsuback: return decode_packet_id_only(type, in);
  case PacketType::subscribe: return decode_subscribe(in, false);
  case PacketType::unsubscribe: return decode_subscribe(in, true);
  case PacketType::suback: return decode_suback(in);
  case PacketType::pingreq:
  case PacketType::pingresp:
  case PacketType::disconnect:
    if (in.remaining() != 0)
      return malformed("packet type " + std::to_string(int(type)), "must have no body");
    if (type == PacketType::pingreq)
      return Packet(Pingreq{});
    if (type == PacketType::pingresp)
      return Packet(Pingresp{});
    return Packet(Disconnect{});
  case PacketType::pubrec:
  case PacketType::pubrel:
  case PacketType::pubcomp:
    return malformed("QoS 2 flow", "is not supported (IoT hubs take QoS 0 and 1)");
  }
  return malformed("packet", "type " + std::to_string(int(type)) + " is reserved");
}

std::optional<Error> decode_packet_into(std::uint8_t first_byte,
                                        std::span<const std::uint8_t> body, Packet &packet) {
  if (PacketType(first_byte >> 4) != PacketType::publish) {
    auto decoded = decode_packet(first_byte, body);
    if (!decoded)
      return decoded.error();
    packet = std::move(decoded.value());
    return std::nullopt;
  }
  auto *publish = std::get_if<Publish>(&packet);
  if (!publish)
    publish = &packet.emplace<Publish>();
  ByteReader in(body);
  return decode_publish_into(first_byte & 0x0f, in, *publish);
}

Result<Packet> decode(std::span<const std::uint8_t> bytes, std::size_t max_packet_size) {
  Frame frame;
  try {
    frame = read_frame(bytes, max_packet_size);
  } catch (const Error &error) {
    return error;
  }
  if (frame.status != Frame::Status::complete)
    return malformed("packet", "truncated: " + std::to_string(bytes.size()) + " of " +
                                   std::to_string(frame.total_size() ? frame.total_size() : 2) +
                                   "+ bytes");
  if (bytes.size() != frame.total_size())
    return malformed("packet", std::to_string(bytes.size() - frame.total_size()) +
                                   " bytes after the packet");
  return decode_packet(frame.first_byte, bytes.subspan(frame.header_size));
}

Result<std::vector<std::uint8_t>> encode(const Packet &packet,
                                         std::vector<std::uint8_t> recycled) {
  return std::visit(Encoder{recycled}, packet);
}

std::optional<std::string> topic_name_problem(std::string_view topic) {
  if (topic.empty())
    return "is empty";
  if (topic.size() > kMaxString)
    return "of " + std::to_string(topic.size()) + " bytes is over MQTT's 65,535";
  if (!is_valid_utf8(topic))
    return "is not valid UTF-8 or holds U+0000";
  if (topic.find_first_of("+#") != std::string_view::npos)
    return "\"" + std::string(topic.substr(0, 200)) + "\" contains a wildcard (+ or #)";
  return std::nullopt;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  std::size_t f = 0, t = 0;
  while (f < filter.size()) {
    std::size_t f_end = filter.find('/', f);
    if (f_end == std::string_view::npos)
      f_end = filter.size();
    std::string_view level = filter.substr(f, f_end - f);
    if (level == "#")
      return true;
    if (t > topic.size())
      return false;
    std::size_t t_end = topic.find('/', t);
    if (t_end == std::string_view::npos)
      t_end = topic.size();
    if (level != "+" && level != topic.substr(t, t_end - t))
      return false;
    f = f_end + 1;
    t = t_end + 1;
  }
  return t > topic.size();
}

std::string topic_query_value(std::string_view topic, std::string_view key) {
  auto query = topic.find('?');
  if (query == std::string_view::npos)
    return "";
  for (auto at = query + 1; at < topic.size();) {
    auto end = std::min(topic.find('&', at), topic.size());
    auto pair = topic.substr(at, end - at);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=')
      return std::string(pair.substr(key.size() + 1));
    at = end + 1;
  }
  return "";
}

} // namespace chainlab::mqtt
