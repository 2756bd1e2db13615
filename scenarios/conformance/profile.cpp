#include "scenarios/conformance/profile.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "pki/encoding.hpp"

namespace chainlab::conformance {
namespace {

using nlohmann::json;

Error invalid(const std::string &file, const std::string &pointer, const std::string &why) {
  return Error(Reason::config_invalid, file + ": " + pointer + ": " + why);
}

template <std::size_t N>
bool known(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

// pointer_token escapes a key for a JSON pointer (RFC 6901).
std::string pointer_token(const std::string &key) {
  std::string out;
  for (char c : key)
    out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

std::string single_quoted(const std::string &value) {
  std::string out = "'";
  for (char c : value)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// walk_template calls |placeholder| for each {name} and |literal| for the
// text between; returns "" or what is wrong at which byte.
template <typename Placeholder, typename Literal>
std::string walk_template(const std::string &text, Placeholder placeholder, Literal literal) {
  for (std::size_t at = 0; at < text.size(); ++at) {
    char c = text[at];
    if ((c == '{' || c == '}') && at + 1 < text.size() && text[at + 1] == c) {
      literal(c);
      ++at;
    } else if (c == '}') {
      return "unmatched \"}\" at byte " + std::to_string(at) + " (write }} for a literal brace)";
    } else if (c == '{') {
      auto end = text.find('}', at);
      if (end == std::string::npos)
        return "unclosed \"{\" at byte " + std::to_string(at) + " (write {{ for a literal brace)";
      std::string name = text.substr(at + 1, end - at - 1);
      if (!known(kPlaceholders, name))
        return "unknown placeholder {" + name + "} at byte " + std::to_string(at);
      placeholder(name);
      at = end;
    } else {
      literal(c);
    }
  }
  return "";
}

std::string string_field(const json &document, const std::string &file, const std::string &key,
                         bool required) {
  if (!document.contains(key)) {
    if (required)
      throw invalid(file, "/" + key, "required");
    return "";
  }
  const json &value = document[key];
  if (!value.is_string() || value.get<std::string>().empty())
    throw invalid(file, "/" + key, "expected a non-empty string");
  return value.get<std::string>();
}

} // namespace

DeviceProfile parse_profile(std::string_view text, const std::string &file) {
  json document = json::parse(text.begin(), text.end(), nullptr, false);
  if (document.is_discarded())
    throw invalid(file, "", "not valid JSON");
  if (!document.is_object())
    throw invalid(file, "", "expected a JSON object");
  for (const auto &[key, value] : document.items())
    if (key != "name" && key != "description" && key != "command" && key != "capabilities" &&
        key != "key")
      throw invalid(file, "/" + pointer_token(key),
                    "unknown field (known: name, description, command, capabilities, key)");
  DeviceProfile profile;
  profile.file = file;
  profile.name = string_field(document, file, "name", true);
  profile.description = string_field(document, file, "description", false);
  profile.command = string_field(document, file, "command", true);
  if (auto error = walk_template(profile.command, [](const std::string &) {}, [](char) {});
      !error.empty())
    throw invalid(file, "/command", error);
  profile.key = string_field(document, file, "key", true);
  if (profile.key != "pem" && profile.key != "pkcs11")
    throw invalid(file, "/key", "expected \"pem\" or \"pkcs11\"");
  if (!document.contains("capabilities") || !document["capabilities"].is_array())
    throw invalid(file, "/capabilities", "expected an array of capabilities");
  const json &capabilities = document["capabilities"];
  for (std::size_t i = 0; i < capabilities.size(); ++i) {
    std::string pointer = "/capabilities/" + std::to_string(i);
    if (!capabilities[i].is_string() || !known(kCapabilities, capabilities[i].get<std::string>()))
      throw invalid(file, pointer,
                    "unknown capability (known: est-enrolment, telemetry, c2d, twin, methods, "
                    "reconnect)");
    if (!profile.capabilities.insert(capabilities[i].get<std::string>()).second)
      throw invalid(file, pointer, "listed twice");
  }
  return profile;
}

DeviceProfile load_profile(const std::string &file) {
  return parse_profile(pki::read_file(file), file);
}

std::string expand_command(const std::string &command_template,
                           const std::map<std::string, std::string> &values) {
  std::string out;
  auto error = walk_template(
      command_template,
      [&](const std::string &name) {
        auto found = values.find(name);
        out += single_quoted(found == values.end() ? "" : found->second);
      },
      [&](char c) { out += c; });
  if (!error.empty())
    throw Error(Reason::config_invalid, "command template: " + error);
  return out;
}

} // namespace chainlab::conformance
