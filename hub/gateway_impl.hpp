// hub/gateway_impl.hpp: the device gateway's insides, shared by the gateway
// (hub/device_gateway.cpp) and its connections (hub/device_connection.hpp).
// Only those two include it.
#pragma once

#include <utility> // Boost 1.74's asio needs it before GCC 12 headers

#include <boost/asio.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hub/device_gateway.hpp"
#include "hub/gateway_services.hpp"
#include "hub/tls_socket.hpp"
#include "net/accept_backoff.hpp"

namespace chainlab::hub {
namespace gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// From accept, TLS and CONNECT together must finish within this, however
// slowly the bytes trickle in.
constexpr auto kConnectDeadline = std::chrono::seconds(10);
constexpr auto kShutdownDeadline = std::chrono::seconds(2);
// A device that does not read its messages is cut off, not buffered for.
constexpr std::size_t kMaxQueuedWrites = 256;
// Past this many waiting writes the hub stops reading from the device, so a
// device that sends without reading is slowed down (its own PUBACKs wait),
// not cut off; reading resumes as the queue drains.
constexpr std::size_t kPauseReadingAtWrites = 128;
// What a device may send between CONNECT and CONNACK (held, not processed).
constexpr std::size_t kMaxHeldBytes = 64 * 1024;
constexpr std::size_t kKeptInboundCapacity = 4096;
// Written buffers a busy connection keeps for its next packets.
constexpr std::size_t kSpentKept = 4;

struct PendingMessage {
  std::string properties;
  std::string payload;
};

class Connection;

// Tenant: one named hub's listener and TLS context. Its trust is in the
// TrustStore's snapshot.
struct Tenant {
  std::string name;
  ossl::Ptr<SSL_CTX> native;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::AcceptBackoff> backoff;
  std::shared_ptr<ConnectionLimits> limits;
  // Connections closed over a limit since the last report (at most one
  // report a second, so a flood does not become a flood of events).
  std::size_t refused_since_report = 0;
  std::chrono::steady_clock::time_point last_report{};
};

} // namespace gateway

struct DeviceGateway::Impl {
  using Tenant = gateway::Tenant;
  using Connection = gateway::Connection;
  using PendingMessage = gateway::PendingMessage;
  using tcp = gateway::tcp;
  Impl(registry::HubRegistry &r, TrustStore &t, Narrator &n, const net::TlsIdentity &id,
       ConnectionLimitSettings l)
      : registry(r), trust(t), narrator(n), identity(id), limit_settings(l), services(r, t, n),
        ssl_index(SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr)) {}

  void serve();

  void do_accept(Tenant &tenant);
  // on_accepted starts a connection within the tenant's limits, or closes it.
  void on_accepted(Tenant &tenant, TlsSocket::Socket socket);
  void report_accept_trouble(Tenant &tenant, const std::string &kind, const std::string &detail);
  // attach makes |connection| the device's live one; an older connection of
  // the same device is dropped and the duplicate recorded.
  void attach(const std::shared_ptr<Connection> &connection);
  void detach(const Connection *connection);
  std::deque<PendingMessage> take_pending(const std::string &key);
  // live returns the device's current connection, if it has one.
  std::shared_ptr<Connection> live(const std::string &key);
  // deliver_or_queue hands a message to the live connection, or keeps it
  // until the device next subscribes; one lock, so none slips between.
  Result<bool> deliver_or_queue(const std::string &key, const PendingMessage &message);
  void queue_for_next_subscription(const std::string &key, const PendingMessage &message);
  std::vector<std::shared_ptr<Connection>> live_on(const std::string &hub);

  registry::HubRegistry &registry;
  TrustStore &trust;
  Narrator &narrator;
  net::TlsIdentity identity;
  ConnectionLimitSettings limit_settings;
  GatewayServices services;
  int ssl_index;
  boost::asio::io_context io;
  std::vector<std::unique_ptr<Tenant>> tenants;
  std::vector<std::thread> threads;
  std::mutex connections_mutex;
  std::map<std::string, std::weak_ptr<Connection>> connections; // "hub/device"
  std::map<std::string, std::deque<PendingMessage>> pending;
};

} // namespace chainlab::hub
