#include "hub/device_json.hpp"

namespace chainlab::hub {

std::size_t json_depth(std::string_view text, std::size_t give_up_after) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > give_up_after)
        return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_device_json(std::string_view text, const std::string &what,
                                         const std::string &device_id, std::size_t max_bytes) {
  if (json_depth(text, kMaxJsonDepth) > kMaxJsonDepth)
    return Error(Reason::limit_exceeded, what + " from " + device_id +
                                             " nests deeper than the limit of " +
                                             std::to_string(kMaxJsonDepth) + " levels");
  if (text.size() > max_bytes)
    return Error(Reason::limit_exceeded, what + " from " + device_id + " is " +
                                             std::to_string(text.size()) +
                                             " bytes, over the limit of " +
                                             std::to_string(max_bytes) + " bytes");
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded())
    return Error(Reason::malformed_request, what + " from " + device_id + " is not JSON");
  return parsed;
}

Result<std::string> merge_reported(std::string_view current, std::string_view patch,
                                   const std::string &device_id) {
  auto parsed = parse_device_json(patch, "the reported-properties patch", device_id,
                                  kMaxReportedBytes);
  if (!parsed)
    return parsed.error();
  if (!parsed.value().is_object())
    return Error(Reason::malformed_request,
                 "reported-properties patch from " + device_id + " is not a JSON object");
  auto document = nlohmann::json::parse(current, nullptr, false);
  if (!document.is_object())
    document = nlohmann::json::object();
  document.merge_patch(parsed.value());
  std::string merged = dump_json(document);
  // Merging can only nest as deep as the patch (checked), but it can grow.
  if (merged.size() > kMaxReportedBytes)
    return Error(Reason::limit_exceeded,
                 "reported properties of " + device_id + " would be " +
                     std::to_string(merged.size()) + " bytes after this patch, over the limit of " +
                     std::to_string(kMaxReportedBytes) + " bytes; nothing was changed");
  return merged;
}

nlohmann::json method_payload(std::string_view payload, const std::string &device_id) {
  auto parsed = parse_device_json(payload, "the method response", device_id, kMaxReportedBytes * 4);
  return parsed ? parsed.value() : nlohmann::json(std::string(payload));
}

std::string dump_json(const nlohmann::json &value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace chainlab::hub
