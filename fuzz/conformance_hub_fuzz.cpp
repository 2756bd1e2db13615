// The conformance suite's hub script against any byte stream a device under
// test may send: every reply it writes decodes as MQTT, what it keeps stays
// within its bounds, and nothing escapes it. The stream arrives in chunks
// whose sizes the input chooses, so partial packets are exercised too.
#include <variant>

#include "fuzz/fuzz_input.hpp"
#include "mqtt/codec.hpp"
#include "scenarios/conformance/hub_script.hpp"

using namespace chainlab;
using conformance::HubScript;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  static constexpr conformance::MqttBehaviour kBehaviours[] = {
      conformance::MqttBehaviour::serve, conformance::MqttBehaviour::drop_after_connack,
      conformance::MqttBehaviour::refuse_connect, conformance::MqttBehaviour::silent};
  HubScript script(kBehaviours[input.selector() % 4], "fuzz-rid");
  std::string_view rest = input.rest();
  std::vector<std::uint8_t> inbound;
  std::size_t chunk = 1 + (input.selector() >> 2) * 7; // 1 to 442 bytes at a time
  auto now = conformance::Clock::now();
  for (std::size_t at = 0; at < rest.size() && !script.finished(); at += chunk) {
    auto piece = rest.substr(at, chunk);
    inbound.insert(inbound.end(), piece.begin(), piece.end());
    auto step = script.take(inbound, now);
    for (const auto &reply : step.replies)
      fuzz::require(bool(mqtt::decode(reply)), "the hub script wrote a reply that does not decode");
  }
  conformance::ConnectionRecord record;
  script.report(record);
  fuzz::require(record.packets.size() <= HubScript::kMaxPackets, "more packets kept than the limit");
  std::size_t kept = 0;
  for (const auto &seen : record.packets)
    if (const auto *publish = std::get_if<mqtt::Publish>(&seen.packet)) {
      fuzz::require(publish->payload.size() <= HubScript::kMaxPayloadKept, "a payload kept whole");
      kept += publish->payload.size();
    }
  fuzz::require(kept <= HubScript::kPayloadBudget, "more payload kept than the budget");
  return 0;
}
