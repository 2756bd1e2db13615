// net/https_server.hpp: an asynchronous HTTPS server (Boost.Beast) that
// hands each request to a plain function. Asio stays behind this header.
//
// Limits are answered, never just cut: a request line over kUriLimit gets
// 414, headers over kHeaderLimit 431, a body over kBodyLimit 413, each
// with a JSON body naming the limit. A handler that throws answers 500;
// no exception ends the process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/http_message.hpp"
#include "net/http_codec.hpp"
#include "ossl/ptr.hpp"

namespace chainlab::net {

// PeerInfo is what the transport knows about the client.
struct PeerInfo {
  std::string address;             // "127.0.0.1:53422"
  ossl::Ptr<X509> client_cert;     // null when none was presented
  std::string client_cert_error;   // empty when it verified (or was absent)
};

using HttpHandler =
    std::function<HttpResponse(const HttpRequest &, const PeerInfo &)>;
// Respond may be called once, from any thread, at any later time.
using Respond = std::function<void(HttpResponse)>;
using AsyncHttpHandler =
    std::function<void(const HttpRequest &, const PeerInfo &, Respond)>;
// FailureReporter hears of every exception a request caused (it was
// answered with 500), for the server's event log.
using FailureReporter = std::function<void(const HttpRequest &, const std::string &what)>;

class HttpsServer {
public:
  // Binds |address|:|port| (0 = ephemeral) at once, so port() is known
  // before run(). |context| is shared, not consumed.
  HttpsServer(SSL_CTX *context, HttpHandler handler, const std::string &address,
              std::uint16_t port, FailureReporter on_failure = {});
  HttpsServer(SSL_CTX *context, AsyncHttpHandler handler, const std::string &address,
              std::uint16_t port, FailureReporter on_failure = {});
  ~HttpsServer();

  std::uint16_t port() const;
  // run serves on |threads| threads until SIGINT/SIGTERM or stop(), then
  // closes cleanly. The handler must be thread-safe when |threads| > 1.
  void run(unsigned threads = 1);
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace chainlab::net
