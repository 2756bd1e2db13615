#include "net/tls_connection.hpp"

#include <utility> // Boost 1.74's asio needs it before GCC 12 headers

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <openssl/err.h>

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

} // namespace

struct TlsConnection::Impl {
  explicit Impl(SSL_CTX *native)
      : context((SSL_CTX_up_ref(native), native)), stream(io, context) {}

  // run_with_deadline runs the io_context until |done| or the deadline;
  // a late operation is cancelled. Returns false on timeout.
  bool run_with_deadline(const bool &done, std::chrono::milliseconds timeout) {
    io.restart();
    io.run_for(timeout);
    if (done)
      return true;
    boost::system::error_code ignored;
    stream.lowest_layer().cancel(ignored);
    io.restart();
    io.run(); // let the cancelled handler finish
    return false;
  }

  std::string where;
  asio::io_context io;
  asio::ssl::context context;
  asio::ssl::stream<tcp::socket> stream;
};

TlsConnection::TlsConnection(const std::string &host, std::uint16_t port, SSL_CTX *context,
                             std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(context)) {
  impl_->where = host + ":" + std::to_string(port);
  boost::system::error_code error;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), error);
  bool done = false;
  if (!error) {
    asio::async_connect(impl_->stream.lowest_layer(), endpoints,
                        [&](boost::system::error_code e, const tcp::endpoint &) {
                          error = e;
                          done = true;
                        });
    if (!impl_->run_with_deadline(done, timeout))
      error = asio::error::timed_out;
  }
  if (error)
    throw Error(Reason::peer_unreachable,
                "cannot connect to " + impl_->where + " (" + error.message() + ")");
  SSL_set_tlsext_host_name(impl_->stream.native_handle(), host.c_str());
  done = false;
  impl_->stream.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
    error = e;
    done = true;
  });
  if (!impl_->run_with_deadline(done, timeout))
    throw Error(Reason::peer_unreachable,
                impl_->where + " accepted the connection but did not complete the TLS handshake "
                "within " + std::to_string(timeout.count()) +
                " ms (overloaded, or out of descriptors?)");
  if (error) {
    ossl::drain_errors();
    throw Error(Reason::server_untrusted,
                "TLS handshake with " + impl_->where + " failed (" + error.message() + ")");
  }
}

TlsConnection::~TlsConnection() { close(); }

void TlsConnection::write(std::span<const std::uint8_t> bytes) {
  boost::system::error_code error;
  bool done = false;
  asio::async_write(impl_->stream, asio::buffer(bytes.data(), bytes.size()),
                    [&](boost::system::error_code e, std::size_t) {
                      error = e;
                      done = true;
                    });
  if (!impl_->run_with_deadline(done, std::chrono::seconds(10)))
    error = asio::error::timed_out;
  if (error)
    throw Error(Reason::peer_refused,
                "writing to " + impl_->where + " failed (" + error.message() + ")");
}

std::vector<std::uint8_t> TlsConnection::read_some(std::chrono::milliseconds timeout) {
  std::vector<std::uint8_t> buffer(16 * 1024);
  boost::system::error_code error;
  std::size_t size = 0;
  bool done = false;
  impl_->stream.async_read_some(asio::buffer(buffer), [&](boost::system::error_code e,
                                                          std::size_t n) {
    error = e;
    size = n;
    done = true;
  });
  if (!impl_->run_with_deadline(done, timeout))
    return {};
  if (error) {
    std::string alert = ossl::drain_errors();
    throw Error(Reason::peer_refused,
                impl_->where + " closed the connection (" + error.message() +
                    (error.category() == asio::error::get_ssl_category() ? "; " + alert : "") +
                    ")");
  }
  buffer.resize(size);
  return buffer;
}

void TlsConnection::close() {
  if (!impl_ || !impl_->stream.lowest_layer().is_open())
    return;
  bool done = false;
  impl_->stream.async_shutdown([&](boost::system::error_code) { done = true; });
  impl_->run_with_deadline(done, std::chrono::seconds(1));
  boost::system::error_code ignored;
  impl_->stream.lowest_layer().close(ignored);
  ossl::drain_errors();
}

std::string TlsConnection::protocol() const {
  return SSL_get_version(impl_->stream.native_handle());
}

} // namespace chainlab::net
