#include "scenarios/conformance/hostile_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/byte_reader.hpp"
#include "mqtt/codec.hpp"
#include "ossl/errors.hpp"
#include "pki/encoding.hpp"
#include "scenarios/conformance/hub_script.hpp"

namespace chainlab::conformance {
namespace {

constexpr auto kHandshakeLimit = std::chrono::seconds(10);
// A device that opens more connections than this is spinning; later ones
// are closed at once (and counted), so threads and memory stay bounded.
constexpr std::size_t kServedConnections = 200;
constexpr std::size_t kCountedConnections = 100000;

int accept_any(int, X509_STORE_CTX *) { return 1; } // judged afterwards, not refused

// record_hello keeps what the ClientHello offered: versions and SNI.
int record_hello(SSL *ssl, int *, void *) {
  auto *hello = static_cast<HelloRecord *>(SSL_get_app_data(ssl));
  hello->seen = true;
  hello->legacy_version = std::uint16_t(SSL_client_hello_get0_legacy_version(ssl));
  const unsigned char *data = nullptr;
  size_t size = 0;
  hello->supported_versions.clear();
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &data, &size) == 1)
    hello->supported_versions = parse_supported_versions({data, size});
  hello->sni.reset();
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) == 1)
    hello->sni = parse_server_name({data, size});
  return SSL_CLIENT_HELLO_SUCCESS;
}

ossl::Ptr<SSL_CTX> make_context(const ServerSetup &setup) {
  ossl::Ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()));
  if (setup.max_version) { // an outdated hub: only what OpenSSL's level 0 still allows
    SSL_CTX_set_security_level(context.get(), 0);
    SSL_CTX_set_min_proto_version(context.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(context.get(), setup.max_version);
    SSL_CTX_set_cipher_list(context.get(), "DEFAULT:@SECLEVEL=0");
  } else {
    SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  }
  if (SSL_CTX_use_certificate(context.get(), setup.identity.certificate) != 1 ||
      SSL_CTX_use_PrivateKey(context.get(), setup.identity.key) != 1)
    throw Error(Reason::config_invalid, "hostile server identity: " + ossl::drain_errors());
  if (setup.identity.chain)
    for (const auto &cert : *setup.identity.chain)
      SSL_CTX_add1_chain_cert(context.get(), cert.get());
  if (setup.client_root) {
    X509_STORE *store = SSL_CTX_get_cert_store(context.get());
    X509_STORE_add_cert(store, setup.client_root);
    X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
    X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, accept_any);
  }
  SSL_CTX_set_client_hello_cb(context.get(), record_hello, nullptr);
  return context;
}

// Connection: one accepted socket, read with short timeouts so stop() is
// noticed, written whole.
class Connection {
public:
  Connection(SSL_CTX *context, int fd, const std::atomic<bool> &stopping)
      : ssl_(SSL_new(context)), fd_(fd), stopping_(stopping) {
    timeval timeout{0, 100 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    SSL_set_fd(ssl_.get(), fd);
  }
  ~Connection() { ::close(fd_); }
  SSL *ssl() const { return ssl_.get(); }

  // handshake: true when done; |error| otherwise.
  bool handshake(std::string &error) {
    auto deadline = Clock::now() + kHandshakeLimit;
    while (!stopping_ && Clock::now() < deadline) {
      int done = SSL_accept(ssl_.get());
      if (done == 1)
        return true;
      int code = SSL_get_error(ssl_.get(), done);
      if (code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE) {
        error = ossl::drain_errors();
        if (error.empty())
          error = "the device closed the connection";
        return false;
      }
    }
    error = "no handshake within " + std::to_string(kHandshakeLimit.count()) + " s";
    return false;
  }

  // read: bytes, or none on a quiet 100 ms; false once the peer is gone.
  bool read(std::vector<std::uint8_t> &into) {
    std::uint8_t buffer[4096];
    int got = SSL_read(ssl_.get(), buffer, sizeof buffer);
    if (got > 0) {
      into.insert(into.end(), buffer, buffer + got);
      return true;
    }
    int code = SSL_get_error(ssl_.get(), got);
    ossl::drain_errors();
    return code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE;
  }

  void write(const std::vector<std::uint8_t> &bytes) {
    std::size_t sent = 0;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (sent < bytes.size() && Clock::now() < deadline) {
      int wrote = SSL_write(ssl_.get(), bytes.data() + sent, int(bytes.size() - sent));
      if (wrote > 0)
        sent += std::size_t(wrote);
      else if (int code = SSL_get_error(ssl_.get(), wrote);
               code != SSL_ERROR_WANT_WRITE && code != SSL_ERROR_WANT_READ)
        return;
    }
  }

  void close() { SSL_shutdown(ssl_.get()); }

private:
  ossl::Ptr<SSL> ssl_;
  int fd_;
  const std::atomic<bool> &stopping_;
};

std::string peer_chain_error(SSL *ssl) {
  long result = SSL_get_verify_result(ssl);
  return result == X509_V_OK ? "" : X509_verify_cert_error_string(result);
}

} // namespace

HostileServer::HostileServer(ServerSetup setup)
    : setup_(std::move(setup)), context_(make_context(setup_)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
      ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr *>(&address), &length) != 0)
    throw Error(Reason::storage_failed, "the conformance hub cannot listen on 127.0.0.1");
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() { stop(); }

void HostileServer::stop() {
  if (stopping_.exchange(true))
    return;
  acceptor_.join();
  for (auto &thread : threads_)
    thread.join();
  ::close(listener_);
}

std::vector<ConnectionRecord> HostileServer::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

void HostileServer::accept_loop() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0)
      continue;
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    std::size_t index;
    {
      std::lock_guard lock(mutex_);
      index = records_.size();
      if (index < kCountedConnections) {
        records_.push_back({});
        records_.back().accepted = Clock::now();
      }
    }
    if (index >= kServedConnections) {
      if (index < kCountedConnections) {
        std::lock_guard lock(mutex_);
        records_[index].handshake_error = "not served: over the suite's connection limit";
      }
      ::close(fd);
      continue;
    }
    threads_.emplace_back([this, fd, index] { serve_connection(fd, index); });
  }
}

void HostileServer::serve_connection(int fd, std::size_t index) {
  Connection connection(context_.get(), fd, stopping_);
  HelloRecord hello;
  SSL_set_app_data(connection.ssl(), &hello);
  std::string error;
  bool done = connection.handshake(error);
  auto update = [&](auto change) {
    std::lock_guard lock(mutex_);
    change(records_[index]);
  };
  update([&](ConnectionRecord &record) {
    record.hello = hello;
    record.handshake_done = done;
    record.handshake_error = error;
    if (!done)
      return;
    record.protocol = SSL_get_version(connection.ssl());
    if (X509 *leaf = SSL_get0_peer_certificate(connection.ssl())) {
      record.leaf_pem = pki::to_pem(leaf);
      STACK_OF(X509) *chain = SSL_get_peer_cert_chain(connection.ssl());
      record.intermediates = chain ? sk_X509_num(chain) : 0;
      record.chain_error = peer_chain_error(connection.ssl());
      record.chain_verified = record.chain_error.empty();
    }
  });
  HubScript script(setup_.mqtt);
  std::vector<std::uint8_t> inbound;
  while (done && !stopping_ && !script.finished()) {
    std::size_t before = inbound.size();
    if (!connection.read(inbound))
      break;
    if (inbound.size() == before)
      continue;
    update([&](ConnectionRecord &record) { record.application_bytes += inbound.size() - before; });
    auto step = script.take(inbound, Clock::now());
    for (const auto &bytes : step.replies)
      connection.write(bytes);
    update([&](ConnectionRecord &record) { script.report(record); });
  }
  if (done)
    connection.close();
  update([&](ConnectionRecord &record) { record.closed = Clock::now(); });
}

} // namespace chainlab::conformance
