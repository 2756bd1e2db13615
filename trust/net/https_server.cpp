// Structure follows Boost.Beast's example/http/server/async-ssl: one
// session per connection on its own strand, a deadline before each
// operation, and do_x/on_x pairs.
#include "net/https_server.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace chainlab::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kDeadline = std::chrono::seconds(30);
constexpr std::size_t kBodyLimit = 1 << 20;

HttpRequest to_request(const http::request<http::string_body> &message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto &field : message)
    request.headers.emplace_back(std::string(field.name_string()),
                                 std::string(field.value()));
  request.body = message.body();
  return request;
}

http::response<http::string_body> to_message(const HttpResponse &response,
                                             unsigned version, bool keep_alive) {
  http::response<http::string_body> message{http::status(response.status), version};
  message.set(http::field::server, "chainlab");
  for (const auto &[name, value] : response.headers)
    message.set(name, value);
  message.body() = response.body;
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

class Session : public std::enable_shared_from_this<Session> {
public:
  Session(tcp::socket &&socket, asio::ssl::context &context,
          const HttpHandler &handler)
      : stream_(std::move(socket), context), handler_(handler) {}

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::on_run, shared_from_this()));
  }

private:
  void on_run() {
    beast::error_code ignored;
    auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ignored);
    peer_address_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            beast::bind_front_handler(&Session::on_handshake,
                                                      shared_from_this()));
  }

  void on_handshake(beast::error_code error) {
    if (error)
      return; // a failed handshake has nothing to answer
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, std::size_t) {
    if (error == http::error::end_of_stream)
      return do_close();
    if (error)
      return;
    auto message = parser_->release();
    HttpResponse response = dispatch(to_request(message));
    response_ = std::make_shared<http::response<http::string_body>>(
        to_message(response, message.version(), message.keep_alive()));
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(),
                                                response_->keep_alive()));
  }

  HttpResponse dispatch(const HttpRequest &request) {
    PeerInfo peer;
    peer.address = peer_address_;
    SSL *ssl = stream_.native_handle();
    if (X509 *cert = SSL_get0_peer_certificate(ssl)) {
      peer.client_cert = ossl::up_ref(cert);
      long result = SSL_get_verify_result(ssl);
      if (result != X509_V_OK)
        peer.client_cert_error = X509_verify_cert_error_string(result);
    }
    try {
      return handler_(request, peer);
    } catch (const Error &error) {
      return HttpResponse{500, {{"Content-Type", "text/plain"}},
                          std::string(to_string(error.reason())) + ": " +
                              error.detail() + "\n"};
    }
  }

  void on_write(bool keep_alive, beast::error_code error, std::size_t) {
    if (error)
      return;
    response_.reset();
    if (!keep_alive)
      return do_close();
    do_read();
  }

  void do_close() {
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    stream_.async_shutdown(
        beast::bind_front_handler(&Session::on_shutdown, shared_from_this()));
  }
  void on_shutdown(beast::error_code) {}

  beast::ssl_stream<beast::tcp_stream> stream_;
  const HttpHandler &handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::string peer_address_;
};

} // namespace

struct HttpsServer::Impl {
  Impl(SSL_CTX *native, HttpHandler h)
      : context((SSL_CTX_up_ref(native), native)), handler(std::move(h)),
        acceptor(asio::make_strand(io)), signals(io, SIGINT, SIGTERM) {}

  void do_accept() {
    acceptor.async_accept(asio::make_strand(io),
                          [this](beast::error_code error, tcp::socket socket) {
                            if (!error)
                              std::make_shared<Session>(std::move(socket), context,
                                                        handler)
                                  ->run();
                            if (acceptor.is_open())
                              do_accept();
                          });
  }

  // Declared so that sessions (owned by io's queue) die before the handler
  // and TLS context they borrow.
  asio::ssl::context context;
  HttpHandler handler;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::signal_set signals;
};

HttpsServer::HttpsServer(SSL_CTX *context, HttpHandler handler,
                         const std::string &address, std::uint16_t port)
    : impl_(std::make_unique<Impl>(context, std::move(handler))) {
  beast::error_code error;
  tcp::endpoint endpoint(asio::ip::make_address(address, error), port);
  if (!error)
    impl_->acceptor.open(endpoint.protocol(), error);
  if (!error)
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error)
    impl_->acceptor.bind(endpoint, error);
  if (!error)
    impl_->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error)
    throw Error(Reason::config_invalid, "cannot listen on " + address + ":" +
                                            std::to_string(port) + " (" +
                                            error.message() + ")");
}

HttpsServer::~HttpsServer() = default;

std::uint16_t HttpsServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void HttpsServer::run(unsigned threads) {
  impl_->signals.async_wait([this](beast::error_code, int) { stop(); });
  impl_->do_accept();
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto &worker : workers)
    worker.join();
}

void HttpsServer::stop() {
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->signals.cancel(ignored);
    impl_->io.stop();
  });
}

} // namespace chainlab::net
