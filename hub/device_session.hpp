// hub/device_session.hpp: one device's MQTT session in Azure IoT Hub's
// dialect, as pure logic: packets in, packets out, side effects through
// SessionServices. The transport (TLS, framing, timers) lives elsewhere.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/error.hpp"
#include "hub/authenticate.hpp"
#include "mqtt/packets.hpp"
#include "registry/landing.hpp"

namespace chainlab::hub {

// DeviceIdentity is what the verified TLS client certificate established.
// It is the only identity a session trusts: CONNECT fields must match it.
struct DeviceIdentity {
  std::string hub;
  std::string device_id;      // the leaf certificate's CN
  std::string ca_name;        // the verified CA the chain ends at
  std::string issuer_subject; // the CA that signed the leaf
  std::string chain_subjects; // leaf first, " <- " separated
  std::string thumbprint;     // SHA-256 of the leaf
  std::string peer_address;
  // "ca" when the chain ends at a verified CA (whose onboarding policy
  // applies), "thumbprint" when the certificate was registered one-to-one.
  std::string authentication = "ca";
  std::string onboarding = "first-connection";
  std::string issuer_key;     // SPKI SHA-256 of the issuing CA
  std::string chain_keys;     // SPKI SHA-256 per certificate, as chain_subjects
  bool approved = true;       // false: new under an "approval" CA
  Binding binding = Binding::same_certificate;
  std::string previous_thumbprint, previous_chain; // for a certificate change
  // A certificate new to the hub: its DER, and the log that must hold it
  // (onboarding "logged"); see AuthenticatedDevice.
  std::string certificate_der;
  std::shared_ptr<const LogRegistration> required_log;
  // A refusal the handshake decided but that is answered after TLS, at
  // CONNECT (CONNACK 5), as Azure IoT Hub answers unauthorised devices.
  std::optional<Error> refusal;
};

class SessionServices {
public:
  virtual ~SessionServices() = default;
  // admit applies the onboarding policy and records the connection; |done|
  // hears (on any thread, possibly before admit returns) once the record is
  // on disk, or the Error that refuses the device (CONNACK 5).
  virtual void admit(const DeviceIdentity &device, std::function<void(Result<bool>)> done) = 0;
  // record_telemetry takes a device-to-cloud message for storage (copied:
  // the caller keeps its buffers); |landing| then hears |ticket| (on any
  // thread) with whether it reached the disk. An Error (the device is
  // disabled or gone) means it was not taken: |landing| never hears, and
  // the session ends.
  virtual Result<bool> record_telemetry(const DeviceIdentity &device, std::string_view topic,
                                        std::string_view payload,
                                        const std::shared_ptr<registry::Landing> &landing,
                                        std::uint32_t ticket) = 0;
  virtual void record_refusal(const DeviceIdentity &device, const Error &error) = 0;
  // twin returns the twin document; patch_reported merges into "reported"
  // and returns the new reported version.
  virtual std::string twin(const DeviceIdentity &device) = 0;
  virtual Result<long> patch_reported(const DeviceIdentity &device, const std::string &json) = 0;
  virtual void disconnected(const DeviceIdentity &device) = 0;
  // method_response delivers a device's answer to a direct method call.
  virtual void method_response(const DeviceIdentity &device, const std::string &request_id,
                               int status, const std::string &payload) = 0;
};

struct SessionOutput {
  // Most steps answer with one packet (a PUBACK, a CONNACK): it is held in
  // place, not allocated.
  boost::container::small_vector<mqtt::Packet, 1> send;
  bool close = false;
};

class DeviceSession;
// A LateStep is what a session does once an admission it waited for is on
// disk (CONNACK), or could not be written (the end of the session). The
// transport runs it on the session's strand and sends what it returns.
using LateStep = std::function<SessionOutput(DeviceSession &)>;
// LateOutput is the transport's way back into the session, from any thread:
// run hands it a LateStep; landed (a registry::Landing) says that the
// message the session stored under a ticket reached the disk (or did not),
// and the transport then calls DeviceSession::on_landed on the session's
// strand. Tickets keep each message's acknowledgement free of allocation.
class LateOutput : public registry::Landing {
public:
  virtual void run(LateStep step) = 0;

protected:
  ~LateOutput() = default;
};

class DeviceSession {
public:
  // Messages of one device that may wait for the disk at once; past this,
  // the transport stops reading from the device until some have landed
  // (back-pressure, not a refusal: the session stays up).
  static constexpr std::size_t kMaxAwaitingDisk = 64;
  // Distinct topic filters one session may hold (a device needs five at most).
  static constexpr std::size_t kMaxSubscriptions = 32;

  DeviceSession(DeviceIdentity identity, SessionServices &services,
                std::shared_ptr<LateOutput> late);

  // A packet passed as an rvalue may give its strings away (a CONNECT's);
  // an lvalue is copied. Telemetry is copied into storage and leaves the
  // packet's strings to the caller, who may decode the next packet into them.
  SessionOutput on_packet(mqtt::Packet &&packet);
  SessionOutput on_packet(const mqtt::Packet &packet) { return on_packet(mqtt::Packet(packet)); }
  // cloud_to_device builds the PUBLISH for a message, if the device has
  // subscribed to its devicebound topic.
  std::optional<mqtt::Packet> cloud_to_device(const std::string &properties,
                                              const std::string &payload);
  // method_request builds the PUBLISH for a direct method call, if the
  // device has subscribed to $iothub/methods/POST/#.
  std::optional<mqtt::Packet> method_request(const std::string &method,
                                             const std::string &request_id,
                                             const std::string &payload);

  bool connected() const { return connected_; }
  // admitting: CONNECT was taken and its admission is on its way to disk;
  // later packets wait until it lands.
  bool admitting() const { return admitting_; }
  SessionOutput on_admission(const Result<bool> &admitted);
  // on_landed: the message stored under |ticket| is on disk (PUBACK if it
  // was QoS 1), or could not be written (the session ends).
  SessionOutput on_landed(std::uint32_t ticket, bool kept);
  // saturated: kMaxAwaitingDisk messages wait for the disk; read no more.
  bool saturated() const { return awaiting_disk_ >= kMaxAwaitingDisk; }
  std::size_t awaiting_disk() const { return awaiting_disk_; }
  std::chrono::seconds keep_alive() const { return keep_alive_; }
  const DeviceIdentity &identity() const { return identity_; }

private:
  SessionOutput on_connect(const mqtt::Connect &connect);
  SessionOutput on_publish(mqtt::Publish &&publish);
  SessionOutput on_telemetry(const mqtt::Publish &publish);
  // A device's request ($iothub/...): its topic, the request id it carries
  // ($rid) and the packet. Each kind is answered by one member, found by
  // its topic in on_publish's table.
  struct Request {
    const std::string &topic;
    const std::string &rid;
    const mqtt::Publish &publish;
  };
  void answer_twin_get(const Request &request, SessionOutput &out);
  void answer_reported_patch(const Request &request, SessionOutput &out);
  void take_method_response(const Request &request, SessionOutput &out);
  SessionOutput on_subscribe(const mqtt::Subscribe &subscribe);
  SessionOutput refuse_connect(const Error &error);
  SessionOutput refuse_and_close(const Error &error);
  bool may_subscribe(const std::string &filter) const;

  DeviceIdentity identity_;
  SessionServices &services_;
  std::shared_ptr<LateOutput> late_;
  bool connected_ = false, admitting_ = false;
  std::chrono::seconds asked_keep_alive_{0};
  std::chrono::seconds keep_alive_{60};
  std::set<std::string> subscriptions_;
  std::uint16_t next_packet_id_ = 1;
  std::size_t awaiting_disk_ = 0; // telemetry taken, not yet durable
};

// parse_username reads "{host}/{deviceId}/?api-version=..." (host may carry
// a port; extra query parameters are fine) and returns the device ID.
std::optional<std::string> username_device_id(const std::string &username);
// The topics the hub publishes to a device, built in one place.
std::string cloud_to_device_topic(const std::string &device_id, const std::string &properties);
std::string method_request_topic(const std::string &method, const std::string &request_id);
// Why an operator's C2D properties or method name cannot go to a device
// (the topic would be no topic name, or a method name would not be one
// topic level); nullopt when they can. Checked before anything is queued.
std::optional<Error> c2d_properties_problem(const std::string &device_id,
                                            const std::string &properties);
std::optional<Error> method_name_problem(const std::string &method);
// normalise_topic turns a leading "%24" (as some SDKs send "$") into "$".
std::string normalise_topic(const std::string &topic);

} // namespace chainlab::hub
