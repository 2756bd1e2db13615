#include "core/http_message.hpp"

#include <cctype>
#include <charconv>

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

std::string percent_decode(std::string_view text, bool plus_is_space) {
  auto digit = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += char(digit(text[i + 1]) * 16 + digit(text[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
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
      return percent_decode(std::string_view(pair).substr(name.size() + 1), true);
    }
    start = end + 1;
  }
  return "";
}

Result<std::int64_t> number_parameter(const std::string &target, const std::string &name,
                                      std::optional<std::int64_t> absent, std::int64_t most) {
  std::string text = query_parameter(target, name);
  if (text.empty() && absent)
    return *absent;
  std::int64_t value = -1;
  auto [end, failed] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || failed != std::errc() || end != text.data() + text.size() || value < 0 ||
      value > most)
    return Error(Reason::malformed_request, "query parameter \"" + name +
                                                "\": expected a whole number from 0 to " +
                                                std::to_string(most));
  return value;
}

} // namespace chainlab
