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
  using Done = std::function<void(boost::system::error_code, std::size_t)>;

  TlsSocket(tcp::socket socket, SSL_CTX *context);

  SSL *native_handle() const { return ssl_.get(); }
  tcp::socket &socket() { return socket_; }
  tcp::socket::executor_type get_executor() { return socket_.get_executor(); }

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
  // to become readable or writable, then calls |done|.
  void drive(std::function<int()> step, Done done);

  tcp::socket socket_;
  ossl::Ptr<SSL> ssl_;
};

} // namespace chainlab::hub
