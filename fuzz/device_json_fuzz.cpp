// JSON from devices: reported-properties patches merged into a stored
// twin, and method responses. The byte scan must agree with the parser:
// nothing accepted nests deeper than the limit, and nothing throws.
#include "fuzz/fuzz_input.hpp"
#include "hub/device_json.hpp"

using namespace chainlab;

namespace {

std::size_t depth(const nlohmann::json &value) {
  std::size_t deepest = 0;
  if (value.is_structured())
    for (const auto &child : value)
      deepest = std::max(deepest, depth(child));
  return value.is_structured() ? deepest + 1 : 0;
}

// A stored twin the patch lands on, as the registry keeps it.
constexpr std::string_view kStoredTwin =
    R"({"firmware":{"version":"1.0.0","channel":"stable"},"telemetryInterval":30})";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  std::string_view text = input.rest();
  auto parsed = hub::parse_device_json(text, "fuzz input", "widget-001", hub::kMaxReportedBytes);
  if (parsed)
    fuzz::require(depth(parsed.value()) <= hub::kMaxJsonDepth, "accepted JSON nests too deep");

  // Selector 0: the input patches the stored twin; otherwise the stored
  // twin itself is hostile (the first half) and the patch is the rest.
  auto merged = input.selector() == 0
                    ? hub::merge_reported(kStoredTwin, text, "widget-001")
                    : hub::merge_reported(text.substr(0, text.size() / 2),
                                          text.substr(text.size() / 2), "widget-001");
  if (merged)
    fuzz::require(merged.value().size() <= hub::kMaxReportedBytes, "merged twin over the limit");
  hub::dump_json(hub::method_payload(text, "widget-001"), 2);
  return 0;
}
