#include "hub/tls_socket.hpp"

#include <openssl/err.h>

#include <array>
#include <cerrno>
#include <csignal>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>

namespace chainlab::hub {
namespace asio = boost::asio;

boost::system::error_code tls_failure(int ssl_error) {
  switch (ssl_error) {
  case SSL_ERROR_ZERO_RETURN:
    return asio::error::eof;
  case SSL_ERROR_SYSCALL:
    if (unsigned long code = ERR_get_error())
      return {int(code), asio::error::get_ssl_category()};
    if (errno)
      return {errno, boost::system::system_category()};
    return asio::ssl::error::stream_truncated;
  default:
    if (unsigned long code = ERR_get_error())
      return {int(code), asio::error::get_ssl_category()};
    return asio::error::fault;
  }
}

TlsSocket::TlsSocket(Socket socket, SSL_CTX *context)
    : socket_(std::move(socket)), ssl_(SSL_new(context)) {
  // OpenSSL writes to the descriptor with write(2): a peer that has gone
  // must cost an EPIPE, not the process (SIGPIPE).
  static const bool pipe_ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)pipe_ignored;
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  SSL_set_fd(ssl_.get(), int(socket_.native_handle()));
}

std::array<std::uint8_t, 16 * 1024> &TlsSocket::scratch() {
  static thread_local std::array<std::uint8_t, 16 * 1024> buffer;
  return buffer;
}

void TlsSocket::keep_buffers(bool keep) {
  if (keep)
    return (void)SSL_clear_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
  // Not while records wait to be read (a connection paused by back-pressure):
  // OpenSSL before 3.0.14 freed such buffers anyway (CVE-2024-4741). With
  // the mode set, they go after the next read.
  if (!SSL_has_pending(ssl_.get()))
    (void)SSL_free_buffers(ssl_.get());
}

void TlsSocket::acknowledge_now() {
  int on = 1; // a hint: if the kernel refuses it, the ACK is only late
  (void)::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
}

} // namespace chainlab::hub
