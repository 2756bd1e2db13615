// hub/tls_socket.hpp: TLS straight on a TCP socket's descriptor
// (SSL_set_fd), driven by Asio readiness waits. asio::ssl::stream keeps two
// 17 KB buffers and a BIO pair of two more for each connection's whole life,
// and copies every byte through them; here an idle connection holds only
// OpenSSL's SSL object (whose record buffers SSL_MODE_RELEASE_BUFFERS frees).
// Every operation must be started from the socket's strand.
#pragma once

#include <utility> // Boost 1.74's asio needs it before GCC 12 headers

#include <boost/asio.hpp>
#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <span>

#include "ossl/ptr.hpp"

namespace chainlab::hub {

class TlsSocket {
public:
  using tcp = boost::asio::ip::tcp;
  // The socket names its strand's type: a type-erased executor
  // (tcp::socket's any_io_executor) allocates a copy of the strand for
  // every operation started on it.
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Socket = boost::asio::basic_stream_socket<tcp, Strand>;
  using Done = std::function<void(boost::system::error_code, std::size_t)>;

  TlsSocket(Socket socket, SSL_CTX *context);

  SSL *native_handle() const { return ssl_.get(); }
  Socket &socket() { return socket_; }
  Strand get_executor() { return socket_.get_executor(); }

  void async_accept_handshake(Done done);
  // async_receive reads what has arrived into a per-thread scratch buffer
  // and hands it to |done| at once, on the reading thread: an idle
  // connection owns no read buffer at all.
  using Received = std::function<void(boost::system::error_code, std::span<const std::uint8_t>)>;
  void async_receive(Received done);
  // async_write writes the whole buffer, which must stay put until done.
  void async_write(boost::asio::const_buffer buffer, Done done);
  // async_shutdown sends close_notify; it does not wait for the peer's.
  void async_shutdown(Done done);

private:
  // drive repeats |step| (an SSL call) until it stops asking for the socket
  // to become readable or writable, then calls |finish|. Templates, not
  // std::function: nothing is allocated per operation beyond Asio's
  // recycled handler memory.
  template <typename Step, typename Finish> void drive(Step step, Finish finish);

  Socket socket_;
  ossl::Ptr<SSL> ssl_;
};

} // namespace chainlab::hub
