// hub/device_gateway.hpp: the device side of the hub: MQTT 3.1.1 over
// mutual TLS, one listener per named hub. A client certificate is
// required and must chain to one of that hub's verified, enabled CAs;
// failures are refused in the handshake and recorded with their reason.
// Asio stays behind this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "core/narrator.hpp"
#include "net/tls_context.hpp"
#include "registry/hub_registry.hpp"

namespace chainlab::hub {

class DeviceGateway {
public:
  // |identity| is the hub's TLS server identity (borrowed for the
  // gateway's lifetime).
  DeviceGateway(registry::HubRegistry &registry, Narrator &narrator,
                const net::TlsIdentity &identity);
  ~DeviceGateway();

  // listen opens 127.0.0.1:|port| (0 = ephemeral) for |hub|; returns the port.
  std::uint16_t listen(const std::string &hub, std::uint16_t port);
  // start runs the gateway on |threads| threads until stop().
  void start(unsigned threads);
  void stop();

  // send_cloud_to_device queues a message for a device; it is delivered as
  // soon as the device is connected and subscribed to its devicebound topic.
  void send_cloud_to_device(const std::string &hub, const std::string &device_id,
                            const std::string &properties, const std::string &payload);
  bool is_connected(const std::string &hub, const std::string &device_id);

  // invoke_method calls a direct method on a connected device and waits up
  // to |timeout| for its answer. Error(not_found) if the device is not
  // connected or not listening for methods; Error(peer_unreachable) on timeout.
  struct MethodResult {
    int status = 0;
    std::string payload;
  };
  Result<MethodResult> invoke_method(const std::string &hub, const std::string &device_id,
                                     const std::string &method, const std::string &payload,
                                     std::chrono::milliseconds timeout);

  struct Impl; // opaque; public only so the .cpp's helpers can name it

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace chainlab::hub
