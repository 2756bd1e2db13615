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

std::string dump_json(const nlohmann::json &value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace chainlab::hub
