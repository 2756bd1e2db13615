// net/tls_connection.hpp: a blocking TLS client connection with a deadline
// on every operation, for device-side protocols (MQTT). Asio stays behind
// this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ossl/ptr.hpp"

namespace chainlab::net {

class TlsConnection {
public:
  // Connects and handshakes. Throws Error(peer_unreachable) or
  // Error(server_untrusted) (the handshake failed: our check of the server,
  // or the server's of us under TLS 1.2).
  TlsConnection(const std::string &host, std::uint16_t port, SSL_CTX *context,
                std::chrono::milliseconds timeout);
  ~TlsConnection();

  // write sends all of |bytes|; Error(peer_refused) if the peer is gone.
  void write(std::span<const std::uint8_t> bytes);
  // read_some returns the next bytes, or none when |timeout| passes first.
  // Throws Error(peer_refused) naming the TLS alert if the peer refused us
  // (under TLS 1.3 a client learns of a refused certificate only here) or
  // closed the connection.
  std::vector<std::uint8_t> read_some(std::chrono::milliseconds timeout);
  void close();
  std::string protocol() const; // "TLSv1.3"

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace chainlab::net
