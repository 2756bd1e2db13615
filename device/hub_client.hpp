// device/hub_client.hpp: a device's first (and every) connection to its
// hub: TLS client authentication with its certificate and installed chain,
// proof of possession by TLS CertificateVerify with the key in its token,
// then MQTT 3.1.1 in Azure IoT Hub's dialect.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
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
};

// Misbehaviour: deliberate mistakes and attacks, for training and for the
// scenario catalog. A well-behaved device leaves these empty.
struct Misbehaviour {
  bool omit_intermediates = false; // present the leaf certificate alone
  std::string client_id;           // claim another client ID than the CN
  std::string publish_as;          // publish telemetry on another device's topic
  bool allow_weak_crypto = false;  // use a weak key or SHA-1 certificate anyway
  bool impersonate = false;        // present a copied certificate, sign with our own key
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
  // receive waits up to |duration| for cloud-to-device messages.
  std::vector<std::string> receive(std::chrono::milliseconds duration, std::size_t at_most);
  void disconnect();

private:
  void write(const mqtt::Packet &packet);
  // await reads until a packet satisfying |wanted| arrives (others are
  // handled: C2D messages are collected), or the timeout passes.
  mqtt::Packet await(bool (*wanted)(const mqtt::Packet &), std::chrono::milliseconds timeout,
                     const std::string &what);

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
};

} // namespace chainlab::device
