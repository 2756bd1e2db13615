// scenarios/conformance/hostile_server.hpp: the suite's side of the wire.
// A TLS server on an ephemeral loopback port that plays the hub (or an
// impostor EST server) with one chosen behaviour, and records everything
// the device under test did: its ClientHello, the chain it presented,
// whether its handshake completed, every MQTT packet with its time. It is
// conformance code, not a switch in the production hub.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/packets.hpp"
#include "net/tls_context.hpp"

namespace chainlab::conformance {

using Clock = std::chrono::steady_clock;

struct HelloRecord {
  bool seen = false;
  std::uint16_t legacy_version = 0;
  std::vector<std::uint16_t> supported_versions; // empty: no extension
  std::optional<std::string> sni;
};

struct PacketRecord {
  Clock::time_point at;
  mqtt::Packet packet;
};

struct ConnectionRecord {
  Clock::time_point accepted, closed;
  HelloRecord hello;
  bool handshake_done = false;
  std::string handshake_error; // why it did not complete
  std::string protocol;        // "TLSv1.3"
  std::string leaf_pem;        // the client certificate, if any
  int intermediates = 0;       // certificates presented above the leaf
  bool chain_verified = false; // up to the company root, with nothing cached
  std::string chain_error;
  std::size_t application_bytes = 0;
  std::vector<PacketRecord> packets; // from the device, decoded
  std::string protocol_error;        // undecodable MQTT, if any
  std::uint16_t c2d_packet_id = 0;   // the cloud-to-device message we sent
  std::string method_rid;            // the direct method request we sent
};

enum class MqttBehaviour {
  serve,              // a correct hub: CONNACK 0, SUBACK, PUBACK, twin, C2D, a method call
  drop_after_connack, // CONNACK 0, then close
  refuse_connect,     // CONNACK 5, then close
  silent,             // read and count bytes only (the impostor EST server)
};

struct ServerSetup {
  net::TlsIdentity identity;       // the certificate we present, its chain, our key
  X509 *client_root = nullptr;     // the only trust anchor for device chains
  int max_version = 0;             // 0: the default (TLS 1.3)
  MqttBehaviour mqtt = MqttBehaviour::serve;
};

class HostileServer {
public:
  explicit HostileServer(ServerSetup setup);
  ~HostileServer();
  HostileServer(const HostileServer &) = delete;
  HostileServer &operator=(const HostileServer &) = delete;

  std::uint16_t port() const { return port_; }
  std::vector<ConnectionRecord> records() const;
  // stop closes the listener and every connection, and waits for them.
  void stop();

private:
  void accept_loop();
  void serve_connection(int fd, std::size_t index);

  ServerSetup setup_;
  ossl::Ptr<SSL_CTX> context_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<ConnectionRecord> records_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

} // namespace chainlab::conformance
