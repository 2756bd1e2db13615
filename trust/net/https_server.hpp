// net/https_server.hpp: an asynchronous HTTPS server (Boost.Beast) that
// hands each request to a plain function. Asio stays behind this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/http_message.hpp"
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

class HttpsServer {
public:
  // Binds |address|:|port| (0 = ephemeral) at once, so port() is known
  // before run(). |context| is shared, not consumed.
  HttpsServer(SSL_CTX *context, HttpHandler handler, const std::string &address,
              std::uint16_t port);
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
