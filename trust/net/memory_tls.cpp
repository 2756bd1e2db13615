#include "net/memory_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace chainlab::net {
namespace {

void note_alert(const SSL *ssl, int where, int value) {
  if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT)
    if (auto *alert = static_cast<int *>(SSL_get_app_data(ssl)))
      *alert = value & 0xff;
}

// step advances one end; false once it has failed.
bool step(SSL *ssl, bool &finished) {
  if (finished)
    return true;
  int rc = SSL_do_handshake(ssl);
  finished = rc == 1;
  return finished || SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ;
}

} // namespace

MemoryHandshake run_memory_handshake(SSL_CTX *client_ctx, SSL_CTX *server_ctx) {
  MemoryHandshake out;
  out.client.reset(SSL_new(client_ctx));
  out.server.reset(SSL_new(server_ctx));
  BIO *client_bio = nullptr, *server_bio = nullptr;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(out.client.get(), client_bio, client_bio);
  SSL_set_bio(out.server.get(), server_bio, server_bio);
  SSL_set_connect_state(out.client.get());
  SSL_set_accept_state(out.server.get());
  SSL_set_app_data(out.client.get(), &out.client_alert);
  SSL_set_info_callback(out.client.get(), note_alert);
  bool server_ok = true;
  for (int round = 0; round < 20 && server_ok && !out.completed(); ++round) {
    if (!step(out.client.get(), out.client_finished))
      break;
    server_ok = step(out.server.get(), out.server_finished);
  }
  if (out.client_finished) {
    char byte;
    SSL_read(out.client.get(), &byte, 1);
  }
  SSL_set_app_data(out.client.get(), nullptr);
  ERR_clear_error();
  return out;
}

} // namespace chainlab::net
