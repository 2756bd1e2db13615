// The device gateway: listeners, limits, the map of live connections and
// the operator's reach into them. Each connection is a
// gateway::Connection (hub/device_connection.hpp).
#include "hub/device_gateway.hpp"

#include <atomic>

#include "core/clock.hpp"
#include "hub/device_connection.hpp"
#include "hub/gateway_impl.hpp"

namespace chainlab::hub {

using gateway::Connection;
using gateway::PendingMessage;
using gateway::Tenant;
using gateway::tcp;
using gateway::verify_device_certificate;
namespace asio = boost::asio;

void DeviceGateway::Impl::do_accept(Tenant &tenant) {
  tenant.acceptor->async_accept(asio::make_strand(io), [this, &tenant](
                                                           boost::system::error_code error,
                                                           TlsSocket::Socket socket) {
    if (!error)
      on_accepted(tenant, std::move(socket));
    if (!tenant.acceptor->is_open())
      return;
    if (tenant.backoff->after_accept(error, [this, &tenant] { do_accept(tenant); }))
      report_accept_trouble(tenant, "accept_paused",
                            "cannot accept device connections (" + error.message() +
                                "): accepting pauses and retries, up to 1 s apart, until "
                                "descriptors are free again");
  });
}

void DeviceGateway::Impl::on_accepted(Tenant &tenant, TlsSocket::Socket socket) {
  boost::system::error_code error;
  tcp::endpoint peer = socket.remote_endpoint(error);
  if (error)
    return; // the peer is already gone
  auto place = tenant.limits->admit(peer.address().to_string());
  if (place) {
    std::make_shared<Connection>(std::move(socket), tenant, *this, std::move(place.value()), peer)
        ->start();
    return;
  }
  socket.close(error);
  ++tenant.refused_since_report;
  auto when = std::chrono::steady_clock::now();
  if (when - tenant.last_report < std::chrono::seconds(1))
    return;
  std::string also = tenant.refused_since_report > 1
                         ? " (" + std::to_string(tenant.refused_since_report) +
                               " connections closed over limits since the last report)"
                         : "";
  tenant.last_report = when;
  tenant.refused_since_report = 0;
  report_accept_trouble(tenant, "refused", place.error().detail() + also);
}

void DeviceGateway::Impl::report_accept_trouble(Tenant &tenant, const std::string &kind,
                                                const std::string &detail) {
  try {
    registry.add_event_later({0, tenant.name, now(), kind, "limit_exceeded", "", detail});
  } catch (const std::exception &) { // out of descriptors, the log may fail too
  }
  narrator.refuse("limit_exceeded", "[" + tenant.name + "] " + detail);
}

void DeviceGateway::Impl::attach(const std::shared_ptr<Connection> &connection) {
  std::shared_ptr<Connection> older;
  {
    std::lock_guard lock(connections_mutex);
    auto &slot = connections[connection->key()];
    older = slot.lock();
    slot = connection;
  }
  if (older && older != connection) {
    auto slash = connection->key().find('/');
    std::string hub = connection->key().substr(0, slash), device = connection->key().substr(slash + 1);
    services.record_event(hub, "duplicate_connection", "duplicate_connection", device,
                          "device " + device + " connected again while connected: the older "
                          "connection was dropped (two holders of one identity: a clone?)");
    older->drop_as_duplicate();
  }
}

void DeviceGateway::Impl::detach(const Connection *connection) {
  std::lock_guard lock(connections_mutex);
  auto found = connections.find(connection->key());
  if (found != connections.end() && found->second.lock().get() == connection)
    connections.erase(found);
}

std::deque<PendingMessage> DeviceGateway::Impl::take_pending(const std::string &key) {
  std::lock_guard lock(connections_mutex);
  auto found = pending.find(key);
  if (found == pending.end())
    return {};
  auto messages = std::move(found->second);
  pending.erase(found);
  return messages;
}

Result<bool> DeviceGateway::Impl::deliver_or_queue(const std::string &key,
                                                   const PendingMessage &message) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(connections_mutex);
    auto found = connections.find(key);
    if (found != connections.end())
      connection = found->second.lock();
    auto &queue = pending[key];
    if (queue.size() >= kMaxPendingMessages)
      return Error(Reason::queue_full,
                   "device " + key.substr(key.find('/') + 1) + " has " +
                       std::to_string(kMaxPendingMessages) +
                       " cloud-to-device messages waiting, the most a device may have; the "
                       "message was not queued");
    if (!connection)
      queue.push_back(message);
    else if (queue.empty())
      pending.erase(key);
  }
  if (connection)
    connection->deliver(message);
  return true;
}

std::vector<std::shared_ptr<Connection>> DeviceGateway::Impl::live_on(const std::string &hub) {
  std::vector<std::shared_ptr<Connection>> found;
  std::string prefix = hub + "/";
  std::lock_guard lock(connections_mutex);
  for (auto it = connections.lower_bound(prefix);
       it != connections.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    if (auto connection = it->second.lock())
      found.push_back(std::move(connection));
  return found;
}

void DeviceGateway::Impl::serve() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception &failure) {
      narrator.refuse("internal_error", std::string("a device session failed (") +
                                            failure.what() + "); the gateway serves on");
    }
  }
}

void DeviceGateway::Impl::queue_for_next_subscription(const std::string &key,
                                                      const PendingMessage &message) {
  {
    std::lock_guard lock(connections_mutex);
    auto &queue = pending[key];
    if (queue.size() < kMaxPendingMessages) {
      queue.push_back(message);
      return;
    }
  }
  auto slash = key.find('/');
  services.record_event(key.substr(0, slash), "refused", "queue_full", key.substr(slash + 1),
                        "a cloud-to-device message for " + key.substr(slash + 1) +
                            " was dropped: " + std::to_string(kMaxPendingMessages) +
                            " were waiting for it to subscribe");
}

std::shared_ptr<Connection> DeviceGateway::Impl::live(const std::string &key) {
  std::lock_guard lock(connections_mutex);
  auto found = connections.find(key);
  return found == connections.end() ? nullptr : found->second.lock();
}

namespace {

// Each device socket's kernel buffers, fixed (the kernel doubles the value)
// instead of autotuned up to tcp_wmem's and tcp_rmem's maximum (4 MB and
// 32 MB on the development machine): a device that floods without reading
// could otherwise pin megabytes of the host's memory before the hub's
// back-pressure saw a full socket. Set on the listener, before listen(), so
// that accepted sockets inherit them and TCP's window scale suits them.
constexpr int kDeviceSocketBuffer = 64 * 1024;

std::unique_ptr<tcp::acceptor> bounded_buffer_acceptor(asio::io_context &io,
                                                       const tcp::endpoint &endpoint) {
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->set_option(asio::socket_base::send_buffer_size(kDeviceSocketBuffer));
  acceptor->set_option(asio::socket_base::receive_buffer_size(kDeviceSocketBuffer));
  acceptor->bind(endpoint);
  acceptor->listen();
  return acceptor;
}

} // namespace

DeviceGateway::DeviceGateway(registry::HubRegistry &registry, TrustStore &trust,
                             Narrator &narrator, const net::TlsIdentity &identity,
                             ConnectionLimitSettings limits)
    : impl_(std::make_unique<Impl>(registry, trust, narrator, identity, limits)) {}

DeviceGateway::~DeviceGateway() { stop(); }

std::uint16_t DeviceGateway::listen(const std::string &hub, std::uint16_t port) {
  auto tenant = std::make_unique<Tenant>();
  tenant->name = hub;
  tenant->native = net::make_server_context(impl_->identity, nullptr);
  SSL_CTX *native = tenant->native.get();
  require_device_certificates(native, verify_device_certificate, impl_.get());
  // Read whatever the socket holds, not a record header and then its body:
  // a device's handshake flight costs a few read(2) calls, not two a record.
  SSL_CTX_set_read_ahead(native, 1);
  tenant->acceptor = bounded_buffer_acceptor(
      impl_->io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  tenant->backoff = std::make_unique<net::AcceptBackoff>(impl_->io.get_executor());
  tenant->limits = std::make_shared<ConnectionLimits>(impl_->limit_settings);
  std::uint16_t chosen = tenant->acceptor->local_endpoint().port();
  impl_->do_accept(*tenant);
  impl_->tenants.push_back(std::move(tenant));
  return chosen;
}

void DeviceGateway::start(unsigned threads) {
  for (unsigned i = 0; i < threads; ++i)
    impl_->threads.emplace_back([this] { impl_->serve(); });
}

void DeviceGateway::stop() {
  for (auto &tenant : impl_->tenants)
    asio::post(impl_->io, [&tenant] {
      boost::system::error_code ignored;
      tenant->acceptor->close(ignored);
    });
  impl_->io.stop();
  for (auto &thread : impl_->threads)
    if (thread.joinable())
      thread.join();
  impl_->threads.clear();
  // Durable writes still on their way call back into the sessions' services.
  impl_->registry.flush_group_commit();
}

Result<bool> DeviceGateway::send_cloud_to_device(const std::string &hub,
                                                 const std::string &device_id,
                                                 const std::string &properties,
                                                 const std::string &payload) {
  if (auto problem = c2d_properties_problem(device_id, properties))
    return *problem;
  return impl_->deliver_or_queue(hub + "/" + device_id, {properties, payload});
}

void DeviceGateway::invoke_method(const std::string &hub, const std::string &device_id,
                                  const std::string &method, const std::string &payload,
                                  std::chrono::milliseconds timeout, MethodDone done) {
  if (auto problem = method_name_problem(method))
    return done(*problem);
  auto live = impl_->live(hub + "/" + device_id);
  if (!live)
    return done(Error(Reason::not_found, "device " + device_id + " is not connected to hub " + hub));
  static std::atomic<unsigned> counter{0};
  std::string request_id = std::to_string(++counter);
  auto &services = impl_->services;
  auto timer = std::make_shared<asio::steady_timer>(impl_->io, timeout);
  bool registered = services.expect_method_response(
      hub, device_id, request_id, [done, timer](GatewayServices::MethodResult answer) {
        timer->cancel();
        done(MethodResult{answer.status, answer.payload});
      });
  if (!registered)
    return done(Error(Reason::queue_full,
                      "hub " + hub + " has " + std::to_string(GatewayServices::kMaxPendingCalls) +
                          " direct method calls waiting already; try again later"));
  timer->async_wait([&services, request_id, done, device_id, method,
                     timeout](boost::system::error_code error) {
    if (!error && services.forget_method_call(request_id))
      done(Error(Reason::peer_unreachable, "device " + device_id + " did not answer method " +
                                               method + " within " +
                                               std::to_string(timeout.count()) + " ms"));
  });
  live->call_method(method, request_id, payload, [&services, request_id, done, device_id,
                                                  timer](bool sent) {
    if (!sent && services.forget_method_call(request_id)) {
      timer->cancel();
      done(Error(Reason::not_found, "device " + device_id +
                                        " does not listen for direct methods "
                                        "($iothub/methods/POST/#)"));
    }
  });
}

void DeviceGateway::end_sessions_no_longer_admitted(const std::string &hub) {
  auto snapshot = impl_->trust.snapshot(hub);
  for (const auto &connection : impl_->live_on(hub)) {
    if (auto why = still_admitted(*snapshot, connected_record(connection->identity())))
      connection->end_session(*why);
  }
}

bool DeviceGateway::is_connected(const std::string &hub, const std::string &device_id) {
  return impl_->live(hub + "/" + device_id) != nullptr;
}

} // namespace chainlab::hub
