#include "core/http_message.hpp"

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

} // namespace chainlab
