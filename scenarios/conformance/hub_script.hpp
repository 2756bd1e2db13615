// scenarios/conformance/hub_script.hpp: what the suite's hub says to a
// device, as a pure function of what the device sent (no sockets, so it is
// unit-tested and fuzzed), and the ClientHello extension parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scenarios/conformance/hostile_server.hpp"

namespace chainlab::conformance {

// parse_supported_versions reads the supported_versions extension's body
// (RFC 8446 4.2.1); empty if malformed.
std::vector<std::uint16_t> parse_supported_versions(std::span<const std::uint8_t> body);
// parse_server_name reads the host name of a server_name extension's body
// (RFC 6066 3); nullopt if malformed or without a host name.
std::optional<std::string> parse_server_name(std::span<const std::uint8_t> body);

// azure_topic undoes the percent-encoding of '$' some SDKs apply.
std::string azure_topic(std::string topic);

// The probes the hub sends, so checks can recognise the answers.
inline constexpr std::uint16_t kC2dPacketId = 4242;
inline constexpr const char *kMethodName = "conformance_probe";

class HubScript {
public:
  explicit HubScript(MqttBehaviour behaviour, std::string method_rid = "");

  struct Step {
    std::vector<std::vector<std::uint8_t>> replies;
  };
  // take consumes every whole packet at the front of |inbound| and answers.
  Step take(std::vector<std::uint8_t> &inbound, Clock::time_point now);
  // At most this many packets are kept, each payload cut at kMaxPayloadKept
  // bytes (Azure's limit for reported properties) and all of them within
  // kPayloadBudget; a device that sends more packets is cut off.
  static constexpr std::size_t kMaxPackets = 2000;
  static constexpr std::size_t kMaxPayloadKept = 32 * 1024;
  static constexpr std::size_t kPayloadBudget = 1024 * 1024;
  // report adds what was seen since the last report to |record|.
  void report(ConnectionRecord &record);
  bool finished() const { return finished_; }

private:
  void answer(const mqtt::Packet &packet, Step &step);
  void answer_subscribe(const mqtt::Subscribe &subscribe, Step &step);
  void answer_publish(const mqtt::Publish &publish, Step &step);

  MqttBehaviour behaviour_;
  std::string method_rid_;
  std::vector<PacketRecord> packets_;
  std::size_t reported_ = 0;
  std::size_t payload_kept_ = 0;
  std::string protocol_error_;
  bool c2d_sent_ = false, method_sent_ = false, finished_ = false;
};

} // namespace chainlab::conformance
