#include "net/http_codec.hpp"

#include <boost/asio/buffer.hpp>

#include "net/beast_http.hpp"

namespace chainlab::net {

namespace beast = boost::beast;
namespace http = beast::http;

HttpResponse limit_response(int status, const std::string &reason, const std::string &limit,
                            std::size_t bytes) {
  std::string message = "the " + limit + " is over this server's limit of " +
                        std::to_string(bytes) + " bytes";
  return HttpResponse{status,
                      {{"Content-Type", "application/json"}, {"X-Chainlab-Reason", reason}},
                      "{\"reason\":\"" + reason + "\",\"message\":\"" + message +
                          "\",\"limit\":" + std::to_string(bytes) + "}\n"};
}

void apply_limits(BeastRequestParser &parser) {
  parser.header_limit(std::uint32_t(kHeaderLimit));
  parser.body_limit(kBodyLimit);
}

std::optional<HttpResponse> refusal_for_read_error(const beast::error_code &error,
                                                   const BeastRequestParser &parser) {
  if (error == http::error::body_limit) // Beast checks Content-Length as it reads headers
    return limit_response(413, "body_too_large", "request body", kBodyLimit);
  if (error != http::error::header_limit)
    return std::nullopt;
  // The parser stores the target once the request line is complete: a
  // limit hit before that is the request line's (414), else the headers' (431).
  if (parser.get().target().empty())
    return limit_response(414, "uri_too_long", "request line", kUriLimit);
  return limit_response(431, "headers_too_large", "request header", kHeaderLimit);
}

std::optional<HttpResponse> refusal_after_header(const BeastRequestParser &parser) {
  if (parser.get().target().size() > kUriLimit)
    return limit_response(414, "uri_too_long", "request target", kUriLimit);
  if (parser.content_length() && *parser.content_length() > kBodyLimit)
    return limit_response(413, "body_too_large", "request body", kBodyLimit);
  return std::nullopt;
}

HttpRequest to_request(const http::request<http::string_body> &message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto &field : message)
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  request.body = message.body();
  return request;
}

http::response<http::string_body> to_message(const HttpResponse &response, unsigned version,
                                             bool keep_alive) {
  http::response<http::string_body> message{http::status(response.status), version};
  message.set(http::field::server, "chainlab");
  for (const auto &[name, value] : response.headers)
    message.set(name, value);
  message.body() = response.body;
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

ParsedRequest parse_request(std::string_view bytes) {
  BeastRequestParser parser;
  apply_limits(parser);
  ParsedRequest parsed;
  beast::error_code error;
  bool header_checked = false;
  while (!parser.is_done() && !error) {
    if (parser.is_header_done() && !header_checked) {
      header_checked = true;
      if ((parsed.refusal = refusal_after_header(parser)))
        return parsed;
    }
    std::size_t used = 0;
    if (!bytes.empty())
      used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), error);
    bytes.remove_prefix(used);
    if (error == http::error::need_more || (!error && used == 0)) {
      // The connection closes here; Beast wants a byte before the end.
      error = parser.got_some() ? beast::error_code{} : http::error::end_of_stream;
      if (!error)
        parser.put_eof(error);
      if (!error && !parser.is_done())
        error = http::error::partial_message;
    }
  }
  if (error) {
    parsed.refusal = refusal_for_read_error(error, parser);
    parsed.error = error.message();
    return parsed;
  }
  parsed.request = to_request(parser.get());
  return parsed;
}

} // namespace chainlab::net
