#include "core/http_message.hpp"

#include <cctype>

#include <strings.h>

namespace chainlab {
namespace {

std::string find_header(
    const std::vector<std::pair<std::string, std::string>> &headers,
    std::string_view name) {
  for (const auto &[key, value] : headers)
    if (key.size() == name.size() &&
        ::strncasecmp(key.data(), name.data(), name.size()) == 0)
      return value;
  return {};
}

} // namespace

std::string HttpRequest::header(std::string_view name) const {
  return find_header(headers, name);
}

std::string HttpResponse::header(std::string_view name) const {
  return find_header(headers, name);
}

std::string query_parameter(const std::string &target, const std::string &name) {
  auto question = target.find('?');
  if (question == std::string::npos)
    return "";
  std::string query = target.substr(question + 1);
  for (size_t start = 0; start <= query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string::npos)
      end = query.size();
    std::string pair = query.substr(start, end - start);
    if (pair.rfind(name + "=", 0) == 0) {
      std::string raw = pair.substr(name.size() + 1), value;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
          value += char(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          value += raw[i] == '+' ? ' ' : raw[i];
        }
      }
      return value;
    }
    start = end + 1;
  }
  return "";
}

} // namespace chainlab
