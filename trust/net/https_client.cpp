#include "net/https_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

} // namespace

HttpResponse https_request(const std::string &host, std::uint16_t port,
                           SSL_CTX *native_context, const HttpRequest &request,
                           std::chrono::seconds timeout) {
  std::string where = host + ":" + std::to_string(port);
  asio::io_context io;
  SSL_CTX_up_ref(native_context);
  asio::ssl::context context(native_context);
  beast::ssl_stream<beast::tcp_stream> stream(io, context);
  SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());

  // Each step runs the io_context to completion; the tcp_stream deadline
  // bounds every one of them.
  beast::error_code error;
  auto &socket = beast::get_lowest_layer(stream);
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), error);
  if (!error) {
    socket.expires_after(timeout);
    socket.async_connect(endpoints, [&](beast::error_code e, auto) { error = e; });
    io.run();
  }
  if (error)
    throw Error(Reason::peer_unreachable,
                "cannot connect to " + where + " (" + error.message() + ")");

  io.restart();
  socket.expires_after(timeout);
  stream.async_handshake(asio::ssl::stream_base::client,
                         [&](beast::error_code e) { error = e; });
  io.run();
  if (error)
    throw Error(Reason::server_untrusted, "TLS handshake with " + where +
                                              " failed (" + error.message() + ")");

  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown)
    throw Error(Reason::internal_error, "unknown HTTP method " + request.method);
  http::request<http::string_body> message{verb, request.target, 11};
  message.set(http::field::host, host);
  message.set(http::field::user_agent, "chainlab");
  for (const auto &[name, value] : request.headers)
    message.set(name, value);
  message.body() = request.body;
  message.prepare_payload();

  beast::flat_buffer buffer;
  http::response<http::string_body> reply;
  io.restart();
  socket.expires_after(timeout);
  http::async_write(stream, message, [&](beast::error_code e, std::size_t) {
    error = e;
    if (error)
      return;
    http::async_read(stream, buffer, reply,
                     [&](beast::error_code e2, std::size_t) { error = e2; });
  });
  io.run();
  if (error)
    throw Error(Reason::peer_refused, "exchange with " + where +
                                          " broke off (" + error.message() + ")");

  HttpResponse response;
  response.status = int(reply.result_int());
  for (const auto &field : reply)
    response.headers.emplace_back(std::string(field.name_string()),
                                  std::string(field.value()));
  response.body = reply.body();

  // Close politely; a peer that just drops the connection is no error here.
  io.restart();
  socket.expires_after(std::chrono::seconds(2));
  stream.async_shutdown([](beast::error_code) {});
  io.run();
  ossl::drain_errors();
  return response;
}

} // namespace chainlab::net
