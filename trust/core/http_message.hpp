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

// query_parameter returns the percent-decoded value of |name| in a
// request target's query ("" when absent).
std::string query_parameter(const std::string &target, const std::string &name);

} // namespace chainlab
