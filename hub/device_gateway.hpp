// hub/device_gateway.hpp: the device side of the hub: MQTT 3.1.1 over
// mutual TLS, one listener per named hub. A client certificate is
// required and must chain to one of that hub's verified, enabled CAs;
// failures are refused in the handshake and recorded with their reason.
// Asio stays behind this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "core/narrator.hpp"
#include "hub/connection_limits.hpp"
#include "hub/trust_store.hpp"
#include "net/tls_context.hpp"
#include "registry/hub_registry.hpp"

namespace chainlab::hub {

class DeviceGateway {
public:
  // |identity| is the hub's TLS server identity (borrowed for the
  // gateway's lifetime).
  // Device authentication reads |trust|'s snapshots only; an operator's
  // change there re-decides every live session of that hub at once.
  // Each hub's listener holds connections within |limits|.
  DeviceGateway(registry::HubRegistry &registry, TrustStore &trust, Narrator &narrator,
                const net::TlsIdentity &identity, ConnectionLimitSettings limits = {});
  ~DeviceGateway();

  // listen opens 127.0.0.1:|port| (0 = ephemeral) for |hub|; returns the port.
  std::uint16_t listen(const std::string &hub, std::uint16_t port);
  // start runs the gateway on |threads| threads until stop().
  void start(unsigned threads);
  void stop();

  // send_cloud_to_device queues a message for a device; it is delivered as
  // soon as the device is connected and subscribed to its devicebound topic.
  // At most kMaxPendingMessages wait per device (Azure IoT Hub's cap);
  // past that, Error(queue_full).
  static constexpr std::size_t kMaxPendingMessages = 50;
  Result<bool> send_cloud_to_device(const std::string &hub, const std::string &device_id,
                                    const std::string &properties, const std::string &payload);
  bool is_connected(const std::string &hub, const std::string &device_id);

  // invoke_method calls a direct method on a connected device without
  // waiting: |done| runs once, with the answer, or Error(not_found) if the
  // device is not connected or not listening for methods, or
  // Error(peer_unreachable) after |timeout|. No thread blocks meanwhile.
  struct MethodResult {
    int status = 0;
    std::string payload;
  };
  using MethodDone = std::function<void(Result<MethodResult>)>;
  void invoke_method(const std::string &hub, const std::string &device_id,
                     const std::string &method, const std::string &payload,
                     std::chrono::milliseconds timeout, MethodDone done);

  // end_sessions re-decides every live session of |hub| against its
  // current snapshot and ends those no longer admitted, with an event.
  void end_sessions_no_longer_admitted(const std::string &hub);

  struct Impl; // opaque; public only so the .cpp's helpers can name it

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace chainlab::hub
