// core/http_message.hpp: plain HTTP request/response values, so protocol
// logic (EST, the hub's API) is written and tested without any socket.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chainlab {

struct HttpRequest {
  std::string method; // "GET", "POST"
  std::string target; // "/.well-known/est/cacerts"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // header returns the first value of |name| (case-insensitive) or "".
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(std::string_view name) const;
};

// percent_decode reads %XX escapes (and '+' as a space when |plus_is_space|,
// as in a query); a '%' not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text, bool plus_is_space = false);
// percent_encode escapes all but letters, digits and "-._~" (RFC 3986's
// unreserved characters), so any text fits in one path segment or value.
std::string percent_encode(std::string_view text);

// query_parameter returns the percent-decoded value of |name| in a
// request target's query ("" when absent).
std::string query_parameter(const std::string &target, const std::string &name);

} // namespace chainlab
