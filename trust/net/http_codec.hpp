// net/http_codec.hpp: HTTP/1.1 requests read with the server's limits.
// HttpsServer and the fuzz target both go through these functions, so
// what is refused (413/414/431) is decided in one place.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/http_message.hpp"

namespace chainlab::net {

inline constexpr std::size_t kUriLimit = 8 * 1024;
inline constexpr std::size_t kHeaderLimit = 16 * 1024;
inline constexpr std::size_t kBodyLimit = 1 << 20;

// limit_response: the JSON answer for a request over one of the limits.
HttpResponse limit_response(int status, const std::string &reason, const std::string &limit,
                            std::size_t bytes);

// ParsedRequest is one of: a whole request; the refusal the server sends
// for a request over a limit; or neither, with why (malformed or cut short).
struct ParsedRequest {
  std::optional<HttpRequest> request;
  std::optional<HttpResponse> refusal;
  std::string error;
};

// parse_request reads the request at the start of |bytes|, as the server
// would from a connection that then closes.
ParsedRequest parse_request(std::string_view bytes);

} // namespace chainlab::net
