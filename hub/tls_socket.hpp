// hub/tls_socket.hpp: TLS straight on a TCP socket's descriptor
// (SSL_set_fd), driven by Asio readiness waits. asio::ssl::stream keeps two
// 17 KB buffers and a BIO pair of two more for each connection's whole life,
// and copies every byte through them; here an idle connection holds only
// OpenSSL's SSL object (whose record buffers SSL_MODE_RELEASE_BUFFERS frees).
// Every operation must be started from the socket's strand.
#pragma once

#include <utility> // Boost 1.74's asio needs it before GCC 12 headers

#include <boost/asio.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <span>

#include "ossl/ptr.hpp"

namespace chainlab::hub {

// tls_failure turns an SSL call's outcome into the error Asio's SSL stream
// would report, so callers read the same messages.
boost::system::error_code tls_failure(int ssl_error);

class TlsSocket {
public:
  using tcp = boost::asio::ip::tcp;
  // The socket names its strand's type: a type-erased executor
  // (tcp::socket's any_io_executor) allocates a copy of the strand for
  // every operation started on it.
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Socket = boost::asio::basic_stream_socket<tcp, Strand>;

  TlsSocket(Socket socket, SSL_CTX *context);

  SSL *native_handle() const { return ssl_.get(); }
  Socket &socket() { return socket_; }
  Strand get_executor() { return socket_.get_executor(); }

  // Completions are templates, not std::function: nothing is allocated per
  // operation beyond Asio's recycled handler memory. |done| takes
  // (error_code, std::size_t), or for async_receive (error_code,
  // std::span<const std::uint8_t>).
  template <typename Done> void async_accept_handshake(Done done) {
    SSL_set_accept_state(ssl_.get());
    drive([ssl = ssl_.get()] { return SSL_do_handshake(ssl); }, std::move(done));
  }
  // async_receive reads what has arrived into a per-thread scratch buffer
  // and hands it to |done| at once, on the reading thread: an idle
  // connection owns no read buffer at all.
  template <typename Done> void async_receive(Done done) {
    drive([ssl = ssl_.get()] { return SSL_read(ssl, scratch().data(), int(scratch().size())); },
          [done = std::move(done)](boost::system::error_code error, std::size_t size) mutable {
            done(error, std::span<const std::uint8_t>(scratch().data(), size));
          });
  }
  // async_write writes the whole buffer, which must stay put until done.
  template <typename Done> void async_write(boost::asio::const_buffer buffer, Done done) {
    if (buffer.size() == 0)
      return done(boost::system::error_code{}, std::size_t(0));
    // Without partial writes, SSL_write writes everything or asks to wait.
    drive([ssl = ssl_.get(), buffer] { return SSL_write(ssl, buffer.data(), int(buffer.size())); },
          std::move(done));
  }
  // async_shutdown sends close_notify; it does not wait for the peer's.
  template <typename Done> void async_shutdown(Done done) {
    drive([ssl = ssl_.get()] { return SSL_shutdown(ssl) >= 0 ? 1 : -1; }, std::move(done));
  }
  // keep_buffers(true) keeps OpenSSL's record buffers between records (a busy
  // connection); false frees them now and after every record (an idle one).
  void keep_buffers(bool keep);
  // acknowledge_now sends the ACK the kernel is holding back (delayed ACK).
  // A client that leaves Nagle on holds its first packet after the
  // handshake until its last flight is acknowledged; the hub, which sends
  // nothing after its Finished, would otherwise leave it waiting 40 ms.
  void acknowledge_now();

private:
  // One per thread: drive() calls the receiver on the thread that read,
  // right after SSL_read returned, so no other connection touches it in
  // between.
  static std::array<std::uint8_t, 16 * 1024> &scratch();

  // drive repeats |step| (an SSL call) until it stops asking for the socket
  // to become readable or writable, then calls |finish|.
  template <typename Step, typename Finish> void drive(Step step, Finish finish) {
    // SSL_get_error needs an empty queue; looking is cheaper than clearing
    // (OpenSSL 3.0 clears all sixteen slots every time).
    if (ERR_peek_error() != 0)
      ERR_clear_error();
    errno = 0;
    int rc = step();
    if (rc > 0)
      return finish(boost::system::error_code{}, std::size_t(rc));
    int error = SSL_get_error(ssl_.get(), rc);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
      return finish(tls_failure(error), std::size_t(0));
    auto wait = error == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
    socket_.async_wait(wait, [this, step = std::move(step), finish = std::move(finish)](
                                 boost::system::error_code waited) mutable {
      if (waited)
        return finish(waited, std::size_t(0));
      drive(std::move(step), std::move(finish));
    });
  }

  Socket socket_;
  ossl::Ptr<SSL> ssl_;
};

} // namespace chainlab::hub
