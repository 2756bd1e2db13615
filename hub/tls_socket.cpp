#include "hub/tls_socket.hpp"

#include <openssl/err.h>

#include <array>
#include <cerrno>
#include <csignal>

#include <boost/asio/ssl/error.hpp>

namespace chainlab::hub {
namespace {

namespace asio = boost::asio;

// failure turns an SSL call's outcome into the error Asio's SSL stream
// would report, so callers read the same messages.
boost::system::error_code failure(int ssl_error) {
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

} // namespace

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

template <typename Step, typename Finish> void TlsSocket::drive(Step step, Finish finish) {
  ERR_clear_error();
  errno = 0;
  int rc = step();
  if (rc > 0)
    return finish(boost::system::error_code{}, std::size_t(rc));
  int error = SSL_get_error(ssl_.get(), rc);
  if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
    return finish(failure(error), 0);
  auto wait = error == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
  socket_.async_wait(wait, [this, step = std::move(step),
                            finish = std::move(finish)](boost::system::error_code waited) mutable {
    if (waited)
      return finish(waited, 0);
    drive(std::move(step), std::move(finish));
  });
}

void TlsSocket::async_accept_handshake(Done done) {
  SSL_set_accept_state(ssl_.get());
  drive([ssl = ssl_.get()] { return SSL_do_handshake(ssl); }, std::move(done));
}

void TlsSocket::async_receive(Received done) {
  // One per thread: drive() calls |done| on the thread that read, right after
  // SSL_read returned, so no other connection touches it in between.
  static thread_local std::array<std::uint8_t, 16 * 1024> scratch;
  drive([ssl = ssl_.get()] { return SSL_read(ssl, scratch.data(), int(scratch.size())); },
        [done = std::move(done)](boost::system::error_code error, std::size_t size) {
          done(error, std::span<const std::uint8_t>(scratch.data(), size));
        });
}

void TlsSocket::async_write(asio::const_buffer buffer, Done done) {
  if (buffer.size() == 0)
    return done({}, 0);
  // Without partial writes, SSL_write writes everything or asks to wait.
  drive([ssl = ssl_.get(), buffer] { return SSL_write(ssl, buffer.data(), int(buffer.size())); },
        std::move(done));
}

void TlsSocket::async_shutdown(Done done) {
  drive([ssl = ssl_.get()] { return SSL_shutdown(ssl) >= 0 ? 1 : -1; }, std::move(done));
}

} // namespace chainlab::hub
