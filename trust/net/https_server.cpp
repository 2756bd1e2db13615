// Structure follows Boost.Beast's example/http/server/async-ssl: one
// session per connection on its own strand, a deadline before each
// operation, and do_x/on_x pairs.
#include "net/https_server.hpp"

#include "net/accept_backoff.hpp"
#include "net/beast_http.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
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
// A streamed response ends after this long; its client asks again.
constexpr auto kStreamLifetime = std::chrono::minutes(10);

HttpResponse internal_error_response() {
  return HttpResponse{500,
                      {{"Content-Type", "application/json"},
                       {"X-Chainlab-Reason", "internal_error"}},
                      "{\"reason\":\"internal_error\",\"message\":\"the request failed inside "
                      "the server; it was recorded, and the server goes on serving\"}\n"};
}

class Session : public std::enable_shared_from_this<Session> {
public:
  Session(tcp::socket &&socket, asio::ssl::context &context, const AsyncHttpHandler &handler,
          const FailureReporter &on_failure)
      : stream_(std::move(socket), context), handler_(handler), on_failure_(on_failure) {}

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
    apply_limits(*parser_);
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code error, std::size_t) {
    if (error == http::error::end_of_stream)
      return do_close();
    if (auto refusal = error ? refusal_for_read_error(error, *parser_)
                             : refusal_after_header(*parser_))
      return refuse(*refusal);
    if (error)
      return;
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, std::size_t) {
    if (auto refusal = error ? refusal_for_read_error(error, *parser_) : std::nullopt)
      return refuse(*refusal);
    if (error)
      return;
    auto message = parser_->release();
    unsigned version = message.version();
    bool keep_alive = message.keep_alive();
    HttpRequest request = to_request(message);
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Respond respond = [self = shared_from_this(), version, keep_alive,
                       answered](HttpResponse response) {
      if (answered->exchange(true))
        return; // a handler answers once
      asio::post(self->stream_.get_executor(),
                 [self, version, keep_alive, response = std::move(response)]() mutable {
                   if (response.stream)
                     return self->start_stream(std::move(response), version);
                   self->write(to_message(response, version, keep_alive));
                 });
    };
    try {
      handler_(request, peer_info(), respond);
    } catch (const std::exception &failure) {
      report(request, failure.what());
      respond(internal_error_response());
    } catch (...) {
      report(request, "an exception of unknown type");
      respond(internal_error_response());
    }
  }

  void report(const HttpRequest &request, const std::string &what) {
    if (!on_failure_)
      return;
    try {
      on_failure_(request, what);
    } catch (...) { // the report is best effort; the answer still goes out
    }
  }

  PeerInfo peer_info() {
    PeerInfo peer;
    peer.address = peer_address_;
    SSL *ssl = stream_.native_handle();
    if (X509 *cert = SSL_get0_peer_certificate(ssl)) {
      peer.client_cert = ossl::up_ref(cert);
      long result = SSL_get_verify_result(ssl);
      if (result != X509_V_OK)
        peer.client_cert_error = X509_verify_cert_error_string(result);
    }
    return peer;
  }

  // refuse answers a request over a limit and then closes: the rest of
  // what the client sends is not read.
  void refuse(const HttpResponse &response) {
    refused_ = true;
    write(to_message(response, 11, false));
  }

  // drain reads and drops what the refused client is still sending (at
  // most kBodyLimit more, within the deadline), so that closing does not
  // reset the connection before the client has read the answer.
  void drain(std::size_t drained = 0) {
    if (drained > kBodyLimit)
      return do_close();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this(), drained](beast::error_code error,
                                                                 std::size_t size) {
                              if (error)
                                return self->do_close();
                              self->drain(drained + size);
                            });
  }

  void write(http::response<http::string_body> message) {
    response_ = std::make_shared<http::response<http::string_body>>(std::move(message));
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(),
                                                response_->keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code error, std::size_t) {
    if (error)
      return;
    response_.reset();
    if (refused_)
      return drain();
    if (!keep_alive)
      return do_close();
    do_read();
  }

  // ---- a streamed response: header, the body, then each further piece as
  // a chunk, one write in flight, until the handler ends it or its lifetime
  // passes; then the connection closes ----
  void start_stream(HttpResponse response, unsigned version) {
    next_piece_ = std::move(response.stream);
    stream_until_ = std::chrono::steady_clock::now() + kStreamLifetime;
    auto header = std::make_shared<http::response<http::empty_body>>(
        http::status(response.status), version);
    header->set(http::field::server, "chainlab");
    for (const auto &[name, value] : response.headers)
      header->set(name, value);
    header->chunked(true);
    header->keep_alive(false);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    http::async_write_header(
        stream_, *serializer,
        [self = shared_from_this(), header, serializer,
         body = std::move(response.body)](beast::error_code error, std::size_t) mutable {
          if (!error)
            self->write_piece(std::move(body));
        });
  }

  void write_piece(std::string piece) {
    if (piece.empty()) // an empty chunk would end the body
      return ask_next_piece();
    piece_ = std::make_shared<std::string>(std::move(piece));
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    asio::async_write(stream_, http::make_chunk(asio::buffer(*piece_)),
                      [self = shared_from_this()](beast::error_code error, std::size_t) {
                        if (!error) // a client that left ends the stream here
                          self->ask_next_piece();
                      });
  }

  void ask_next_piece() {
    if (std::chrono::steady_clock::now() > stream_until_)
      return end_stream();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    try {
      next_piece_([self = shared_from_this(), answered](std::optional<std::string> piece) {
        if (answered->exchange(true))
          return;
        asio::post(self->stream_.get_executor(), [self, piece = std::move(piece)]() mutable {
          piece ? self->write_piece(std::move(*piece)) : self->end_stream();
        });
      });
    } catch (const std::exception &) { // the handler failed: end the body cleanly
      end_stream();
    }
  }

  void end_stream() {
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    asio::async_write(stream_, http::make_chunk_last(),
                      [self = shared_from_this()](beast::error_code error, std::size_t) {
                        if (!error)
                          self->do_close();
                      });
  }

  void do_close() {
    beast::get_lowest_layer(stream_).expires_after(kDeadline);
    stream_.async_shutdown(
        beast::bind_front_handler(&Session::on_shutdown, shared_from_this()));
  }
  void on_shutdown(beast::error_code) {}

  beast::ssl_stream<beast::tcp_stream> stream_;
  const AsyncHttpHandler &handler_;
  const FailureReporter &on_failure_;
  beast::flat_buffer buffer_;
  std::optional<BeastRequestParser> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  NextPiece next_piece_;
  std::shared_ptr<std::string> piece_;
  std::chrono::steady_clock::time_point stream_until_;
  std::string peer_address_;
  bool refused_ = false;
  std::array<char, 16 * 1024> scratch_{};
};

} // namespace

struct HttpsServer::Impl {
  Impl(SSL_CTX *native, AsyncHttpHandler h, FailureReporter f)
      : context((SSL_CTX_up_ref(native), native)), handler(std::move(h)),
        on_failure(std::move(f)), acceptor(asio::make_strand(io)),
        signals(io, SIGINT, SIGTERM) {}

  void do_accept() {
    acceptor.async_accept(asio::make_strand(io),
                          [this](beast::error_code error, tcp::socket socket) {
                            if (!error)
                              std::make_shared<Session>(std::move(socket), context,
                                                        handler, on_failure)
                                  ->run();
                            if (acceptor.is_open())
                              backoff.after_accept(error, [this] { do_accept(); });
                          });
  }

  // Declared so that sessions (owned by io's queue) die before the handler
  // and TLS context they borrow.
  // serve runs the loop on one thread; an exception that escapes a
  // completion handler is reported and the loop goes on.
  void serve() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception &failure) {
        std::cerr << "https server: a session failed (" << failure.what()
                  << "); serving on\n";
      }
    }
  }

  asio::ssl::context context;
  AsyncHttpHandler handler;
  FailureReporter on_failure;
  asio::io_context io;
  tcp::acceptor acceptor;
  AcceptBackoff backoff{acceptor.get_executor()};
  asio::signal_set signals;
};

HttpsServer::HttpsServer(SSL_CTX *context, HttpHandler handler, const std::string &address,
                         std::uint16_t port, FailureReporter on_failure)
    : HttpsServer(
          context,
          [handler = std::move(handler)](const HttpRequest &request, const PeerInfo &peer,
                                         Respond respond) { respond(handler(request, peer)); },
          address, port, std::move(on_failure)) {}

HttpsServer::HttpsServer(SSL_CTX *context, AsyncHttpHandler handler,
                         const std::string &address, std::uint16_t port,
                         FailureReporter on_failure)
    : impl_(std::make_unique<Impl>(context, std::move(handler), std::move(on_failure))) {
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
    workers.emplace_back([this] { impl_->serve(); });
  impl_->serve();
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
