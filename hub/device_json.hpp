// hub/device_json.hpp: JSON that devices send (twin patches, method
// responses) is hostile input. Its nesting and size are checked over the
// raw bytes before any parser sees them, with Azure IoT Hub's published twin
// limits: depth at most 10, reported properties at most 32 KB.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace chainlab::hub {

inline constexpr std::size_t kMaxJsonDepth = 10;
inline constexpr std::size_t kMaxReportedBytes = 32 * 1024;

// json_depth: the deepest nesting of objects and arrays in |text|, counted
// without parsing (strings and escapes are skipped); stops counting past
// |give_up_after| so hostile input costs one pass and no memory.
std::size_t json_depth(std::string_view text, std::size_t give_up_after);

// parse_device_json parses |text| from device |device_id| as |what| ("the
// reported-properties patch"), refusing with limit_exceeded (naming the
// limit) anything deeper than kMaxJsonDepth or longer than |max_bytes|,
// and with malformed_request what is not JSON. Never throws.
Result<nlohmann::json> parse_device_json(std::string_view text, const std::string &what,
                                         const std::string &device_id, std::size_t max_bytes);

// merge_reported applies the reported-properties patch |patch| from
// |device_id| to the stored document |current| (anything but a JSON object
// counts as empty) and returns the merged document. Refuses a patch that is
// not a JSON object, or whose result would be over kMaxReportedBytes.
// Never throws.
Result<std::string> merge_reported(std::string_view current, std::string_view patch,
                                   const std::string &device_id);

// method_payload: a device's method response as JSON when it parses within
// the limits, else as the string it sent.
nlohmann::json method_payload(std::string_view payload, const std::string &device_id);

// dump_json renders JSON for people and APIs; invalid UTF-8 is replaced,
// never thrown.
std::string dump_json(const nlohmann::json &value, int indent = -1);

} // namespace chainlab::hub
