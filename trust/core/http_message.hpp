// core/http_message.hpp: plain HTTP request/response values, so protocol
// logic (EST, the hub's API) is written and tested without any socket.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace chainlab {

struct HttpRequest {
  std::string method; // "GET", "POST"
  std::string target; // "/.well-known/est/cacerts"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // header returns the first value of |name| (case-insensitive) or "".
  std::string header(std::string_view name) const;
};

// NextPiece: a streamed body (server-sent events). After the body, the
// server asks for each further piece; the answer comes once per ask, from
// any thread: a piece, or nullopt to end the response.
using PieceAnswer = std::function<void(std::optional<std::string>)>;
using NextPiece = std::function<void(PieceAnswer)>;

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  NextPiece stream = nullptr; // none: the body is all

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
// number_parameter: query parameter |name| as a whole number from 0 to
// |most|; |absent| when it is missing. Anything else, or a missing one
// without |absent|, is a malformed_request Error that names the parameter.
Result<std::int64_t> number_parameter(const std::string &target, const std::string &name,
                                      std::optional<std::int64_t> absent, std::int64_t most);

} // namespace chainlab
