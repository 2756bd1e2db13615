// device/hub_client.hpp: a device's first (and every) connection to its
// hub: TLS client authentication with its certificate and installed chain,
// proof of possession by TLS CertificateVerify with the key in its token,
// then MQTT 3.1.1 in Azure IoT Hub's dialect.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actor/state_dir.hpp"
#include "core/narrator.hpp"
#include "mqtt/packets.hpp"
#include "net/tls_connection.hpp"
#include "net/tls_context.hpp"

namespace chainlab::device {

struct HubEndpoint {
  std::string host = "localhost";
  std::uint16_t port = 0;
  std::string pinned_fingerprint; // the hub's service CA
  std::uint16_t keep_alive = 60;  // MQTT keep-alive seconds
};

// Misbehaviour: deliberate mistakes and attacks, for training and for the
// scenario catalog. A well-behaved device leaves these empty.
struct Misbehaviour {
  bool omit_intermediates = false; // present the leaf certificate alone
  std::string client_id;           // claim another client ID than the CN
  std::string publish_as;          // publish telemetry on another device's topic
  bool allow_weak_crypto = false;  // use a weak key or SHA-1 certificate anyway
  bool impersonate = false;        // present a copied certificate, sign with our own key
  bool skip_hub_verification = false; // trust any hub certificate
  bool skip_host_check = false;       // accept a hub certificate for another name
};

class HubClient {
public:
  HubClient(const std::string &state_dir, HubEndpoint endpoint, Narrator &narrator,
            Misbehaviour misbehaviour = {});
  ~HubClient();

  // connect throws Error(server_untrusted) for an impostor hub and
  // Error(peer_refused) when the hub refuses us (TLS alert or CONNACK).
  void connect();
  void send_telemetry(const std::string &payload);
  void subscribe_cloud_to_device();
  void subscribe(const std::string &filter);
  // publish sends at QoS 0 (Azure's method and twin requests and responses).
  void publish(const std::string &topic, const std::string &payload);
  // on_publish takes over the hub's messages (C2D, methods, twin) from
  // receive(); a QoS 1 message is acknowledged before the handler runs.
  void on_publish(std::function<void(const mqtt::Publish &)> handler);
  // serve handles what the hub sends for |duration|, keeping the connection
  // alive with PINGREQ. Throws Error(peer_refused) when the hub drops us.
  void serve(std::chrono::milliseconds duration);
  std::string device_id() const;
  // receive waits up to |duration| for cloud-to-device messages.
  std::vector<std::string> receive(std::chrono::milliseconds duration, std::size_t at_most);
  void disconnect();

private:
  // connect's three steps: this device's identity and TLS settings (with
  // any misbehaviour), the TLS connection, and MQTT's CONNECT.
  void load_identity();
  void open_tls(const std::string &where);
  void send_connect(const std::string &where);
  void write(const mqtt::Packet &packet);
  // await reads until a packet satisfying |wanted| arrives (others are
  // handled: C2D messages are collected), or the timeout passes.
  mqtt::Packet await(bool (*wanted)(const mqtt::Packet &), std::chrono::milliseconds timeout,
                     const std::string &what);
  // next_buffered decodes and dispatches one buffered packet, if whole.
  std::optional<mqtt::Packet> next_buffered();
  void read_more(std::chrono::milliseconds timeout);

  actor::StateDir state_;
  actor::ActorConfig config_;
  HubEndpoint endpoint_;
  Narrator &narrator_;
  Misbehaviour misbehaviour_;
  std::unique_ptr<hsm::KeyStore> store_;
  ossl::Ptr<EVP_PKEY> key_;
  ossl::Ptr<X509> certificate_;
  pki::CertList intermediates_;
  std::unique_ptr<net::TlsIdentity> identity_;
  std::unique_ptr<net::PinnedClientContext> tls_;
  std::unique_ptr<net::TlsConnection> connection_;
  std::vector<std::uint8_t> inbound_;
  std::vector<std::string> received_;
  std::uint16_t next_packet_id_ = 1;
  std::function<void(const mqtt::Publish &)> on_publish_;
  std::chrono::steady_clock::time_point last_write_;
};

} // namespace chainlab::device
