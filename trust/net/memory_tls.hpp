// net/memory_tls.hpp: a TLS client and server in one process, joined by a
// memory BIO pair: no sockets. For component tests and benchmarks of the
// handshake as the servers configure it.
#pragma once

#include "ossl/ptr.hpp"

namespace chainlab::net {

struct MemoryHandshake {
  bool client_finished = false;
  bool server_finished = false;
  int client_alert = 0; // the alert the client received (SSL_AD_*), 0 if none
  ossl::Ptr<SSL> client, server;

  bool completed() const { return client_finished && server_finished; }
};

// run_memory_handshake drives both ends until they finish or one fails,
// then lets the client read once, so that it hears an alert the server sent
// after the client's Finished (TLS 1.3 judges client certificates then).
MemoryHandshake run_memory_handshake(SSL_CTX *client_ctx, SSL_CTX *server_ctx);

} // namespace chainlab::net
