#include "scenarios/conformance/checks.hpp"

#include <array>

namespace chainlab::conformance {
namespace {

using S = SessionKind;

constexpr std::array kChecks = {
    CheckInfo{"est.refuses-impostor", "est-enrolment", S::impostor_est,
              "the device aborts EST with a server whose CA is not the pinned one, and sends it no "
              "request (so no secret)",
              "a one-time secret sent to an impostor lets the impostor enrol in the device's place"},
    CheckInfo{"est.csr", "est-enrolment", S::main,
              "the CSR carries a fresh key (P-256, P-384, or RSA of 2048 bits or more, never seen "
              "before), CN = the device ID, and no request to be a CA",
              "a reused or weak key makes every device of the model one compromise away; a CA "
              "request is an attempt to mint further identities"},
    CheckInfo{"est.installed-chain", "est-enrolment", S::main,
              "after enrolment the device presents the certificate it was issued, with its chain",
              "a device that keeps a stale or foreign certificate cannot be told apart from a clone"},
    CheckInfo{"tls.version", "", S::old_tls,
              "the device offers only TLS 1.2 or later, and completes no handshake with a hub that "
              "speaks only TLS 1.0/1.1",
              "TLS 1.0 and 1.1 are deprecated (RFC 8996); a downgrade exposes the session"},
    CheckInfo{"tls.sni", "", S::main,
              "the ClientHello names the hub's host (server_name extension)",
              "a hub serving many tenants on one address picks its certificate by SNI"},
    CheckInfo{"tls.full-chain", "", S::main,
              "the device presents its certificate and every intermediate up to (not including) "
              "the verified root",
              "X.509 CA authentication verifies the chain up to a registered CA; a hub that has not "
              "seen the intermediates cannot"},
    CheckInfo{"tls.possession", "", S::main,
              "the TLS CertificateVerify signature verifies with the presented certificate's key",
              "the certificate is public; only the signature proves the device holds the key"},
    CheckInfo{"tls.refuses-untrusted-ca", "", S::untrusted_hub,
              "the device refuses a hub certificate from a CA other than the hub CA, and sends no "
              "MQTT bytes",
              "otherwise anyone on the path can pose as the hub and take the device's telemetry and "
              "commands"},
    CheckInfo{"tls.refuses-wrong-host", "", S::wrong_host,
              "the device refuses a hub certificate issued for another host name, and sends no MQTT "
              "bytes",
              "a certificate from the right CA for another server must not let that server pose as "
              "the hub"},
    CheckInfo{"tls.refuses-expired", "", S::expired_hub,
              "the device refuses an expired hub certificate, and sends no MQTT bytes",
              "an expired certificate's key may have been retired or leaked without revocation"},
    CheckInfo{"mqtt.connect", "", S::main,
              "CONNECT carries client ID = the certificate's CN, the user name "
              "HOST/DEVICE/?api-version=..., and no password",
              "Azure IoT Hub's MQTT dialect: the hub matches the client ID against the certificate"},
    CheckInfo{"mqtt.keepalive", "", S::main,
              "the device sets a keep-alive and sends PINGREQ (or another packet) within it",
              "without it neither side notices a dead connection, and the hub drops the device"},
    CheckInfo{"mqtt.telemetry", "telemetry", S::main,
              "telemetry goes to devices/DEVICE/messages/events/ at QoS 1, never another device's "
              "topic",
              "QoS 1 is what makes a message durable at the hub; another device's topic is spoofing"},
    CheckInfo{"mqtt.c2d", "c2d", S::main,
              "the device subscribes to its cloud-to-device topic and acknowledges a message "
              "(PUBACK)",
              "an unacknowledged message is redelivered, and the queue (50 per device) fills"},
    CheckInfo{"mqtt.twin", "twin", S::main,
              "the device requests its twin ($iothub/twin/GET) and reports properties "
              "($iothub/twin/PATCH/properties/reported, a JSON object)",
              "the twin is how the back end configures the device and learns its state"},
    CheckInfo{"mqtt.methods", "methods", S::main,
              "the device answers the direct method conformance_probe on "
              "$iothub/methods/res/STATUS/ with the request's $rid (any status: 404 is a fine "
              "answer for a method it lacks)",
              "an answer without the request's rid is lost, and the caller times out"},
    CheckInfo{"resilience.reconnect", "reconnect", S::dropping_hub,
              "dropped after every CONNACK, the device reconnects, waiting longer each time (no "
              "more than 8 attempts in 8 s, none within 100 ms of the last)",
              "a fleet that reconnects at once after an outage keeps the hub down"},
    CheckInfo{"resilience.connack-refused", "reconnect", S::refusing_hub,
              "refused with CONNACK 5, the device stops or backs off (no more than 8 attempts in "
              "8 s, none within 100 ms of the last)",
              "a refused device retrying in a tight loop is a denial of service on the hub"},
};

} // namespace

std::string_view to_string(SessionKind kind) {
  constexpr std::array names = {"main",         "untrusted-hub", "wrong-host",   "expired-hub",
                                "old-tls",      "impostor-est",  "dropping-hub", "refusing-hub"};
  return names[std::size_t(kind)];
}

std::span<const CheckInfo> all_checks() { return kChecks; }

const CheckInfo *find_check(std::string_view id) {
  for (const auto &check : kChecks)
    if (check.id == id)
      return &check;
  return nullptr;
}

} // namespace chainlab::conformance
