// net/beast_http.hpp: the Beast side of net/http_codec: conversions between
// Beast messages and our plain HttpRequest/HttpResponse, and the limit
// checks made while a request is read. Only net/ includes this header.
#pragma once

#include <optional>

#include <boost/beast/http.hpp>

#include "net/http_codec.hpp"

namespace chainlab::net {

using BeastRequestParser =
    boost::beast::http::request_parser<boost::beast::http::string_body>;

// apply_limits: gives a fresh parser with the server's header and body limits.
void apply_limits(BeastRequestParser &parser);
// refusal_for_read_error: the answer to a read that failed on a limit.
std::optional<HttpResponse> refusal_for_read_error(const boost::beast::error_code &error,
                                                   const BeastRequestParser &parser);
// refusal_after_header: the answer to a complete header over a limit.
std::optional<HttpResponse> refusal_after_header(const BeastRequestParser &parser);

HttpRequest to_request(const boost::beast::http::request<boost::beast::http::string_body> &message);
boost::beast::http::response<boost::beast::http::string_body>
to_message(const HttpResponse &response, unsigned version, bool keep_alive);

} // namespace chainlab::net
