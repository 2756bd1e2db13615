#include "device/hub_client.hpp"

#include "core/error.hpp"
#include "device/impersonation.hpp"
#include "mqtt/codec.hpp"
#include "pki/inspect.hpp"

namespace chainlab::device {
namespace {

constexpr auto kReplyTimeout = std::chrono::seconds(10);

const char *connack_text(mqtt::ConnackCode code) {
  switch (code) {
  case mqtt::ConnackCode::accepted: return "accepted";
  case mqtt::ConnackCode::unacceptable_protocol: return "unacceptable protocol version";
  case mqtt::ConnackCode::identifier_rejected: return "identifier rejected";
  case mqtt::ConnackCode::server_unavailable: return "server unavailable";
  case mqtt::ConnackCode::bad_username_or_password: return "bad user name or password";
  case mqtt::ConnackCode::not_authorized: return "not authorised";
  }
  return "unknown";
}

} // namespace

HubClient::HubClient(const std::string &state_dir, HubEndpoint endpoint, Narrator &narrator,
                     Misbehaviour misbehaviour)
    : state_(state_dir), config_(state_.load_config()), endpoint_(std::move(endpoint)),
      narrator_(narrator), misbehaviour_(std::move(misbehaviour)) {}

HubClient::~HubClient() = default;

void HubClient::write(const mqtt::Packet &packet) {
  connection_->write(mqtt::encode(packet).take_or_throw());
  last_write_ = std::chrono::steady_clock::now();
}

std::optional<mqtt::Packet> HubClient::next_buffered() {
  auto frame = mqtt::read_frame(inbound_);
  if (frame.status != mqtt::Frame::Status::complete)
    return std::nullopt;
  auto packet = mqtt::decode_packet(
      frame.first_byte, std::span(inbound_).subspan(frame.header_size, frame.remaining_length));
  inbound_.erase(inbound_.begin(), inbound_.begin() + long(frame.total_size()));
  if (!packet)
    throw Error(Reason::peer_refused, "the hub sent a malformed packet: " + packet.error().detail());
  if (auto *publish = std::get_if<mqtt::Publish>(&packet.value())) {
    if (publish->qos == 1)
      write(mqtt::Puback{publish->packet_id});
    if (on_publish_) {
      on_publish_(*publish);
    } else {
      received_.push_back(publish->payload);
      narrator_.say("<- hub: cloud-to-device message: " + publish->payload);
    }
  }
  return packet.value();
}

void HubClient::read_more(std::chrono::milliseconds timeout) {
  auto bytes = connection_->read_some(timeout);
  inbound_.insert(inbound_.end(), bytes.begin(), bytes.end());
}

mqtt::Packet HubClient::await(bool (*wanted)(const mqtt::Packet &),
                              std::chrono::milliseconds timeout, const std::string &what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto packet = next_buffered()) {
      if (wanted(*packet))
        return *packet;
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw Error(Reason::peer_refused, "no " + what + " from the hub within " +
                                            std::to_string(timeout.count()) + " ms");
    read_more(left);
  }
}

void HubClient::connect() {
  load_identity();
  std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
  open_tls(where);
  send_connect(where);
}

void HubClient::load_identity() {
  store_ = state_.open_key_store(config_, false);
  key_ = store_->load_key(actor::kIdentityKeyLabel);
  certificate_ = state_.certificate();
  if (misbehaviour_.impersonate) {
    narrator_.say("misbehaves: presents a copied certificate while signing with its own key");
    key_ = impersonating_key(certificate_.get(), key_.get());
  }
  intermediates_ = state_.intermediates();
  if (misbehaviour_.omit_intermediates) {
    narrator_.say("misbehaves: presents its certificate without the intermediates");
    intermediates_.clear();
  }
  identity_ = std::make_unique<net::TlsIdentity>(
      net::TlsIdentity{certificate_.get(), &intermediates_, key_.get()});
  if (misbehaviour_.allow_weak_crypto)
    narrator_.say("misbehaves: lowers its own TLS security level to use weak crypto");
  if (misbehaviour_.skip_hub_verification)
    narrator_.say("misbehaves: will trust any hub certificate");
  if (misbehaviour_.skip_host_check)
    narrator_.say("misbehaves: will not check the hub certificate's host name");
  tls_ = std::make_unique<net::PinnedClientContext>(
      endpoint_.pinned_fingerprint, endpoint_.host, identity_.get(),
      misbehaviour_.allow_weak_crypto ? 0 : -1,
      net::ServerChecks{!misbehaviour_.skip_hub_verification, !misbehaviour_.skip_host_check});
}

void HubClient::open_tls(const std::string &where) {
  narrator_.say("-> hub at " + where + ": TLS with client certificate " + config_.subject +
                " and its " + std::to_string(intermediates_.size()) +
                " intermediate(s); the key proves possession from " + store_->describe());
  try {
    connection_ = std::make_unique<net::TlsConnection>(endpoint_.host, endpoint_.port, tls_->get(),
                                                       std::chrono::milliseconds(kReplyTimeout));
  } catch (const Error &error) {
    if (!tls_->failure().empty())
      throw Error(Reason::server_untrusted, "hub at " + where + ": " + tls_->failure());
    if (error.reason() == Reason::server_untrusted)
      throw Error(Reason::peer_refused, "the hub refused our certificate in the TLS handshake: " +
                                            error.detail());
    throw;
  }
  narrator_.check("the hub's certificate chains to the pinned hub CA (" + connection_->protocol() +
                  ")");
}

void HubClient::send_connect(const std::string &where) {
  mqtt::Connect connect;
  connect.client_id = pki::common_name(X509_get_subject_name(certificate_.get())).value_or("");
  if (!misbehaviour_.client_id.empty()) {
    narrator_.say("misbehaves: claims client ID " + misbehaviour_.client_id);
    connect.client_id = misbehaviour_.client_id;
  }
  connect.username = where + "/" + connect.client_id + "/?api-version=2021-04-12";
  connect.keep_alive = endpoint_.keep_alive;
  write(connect);
  mqtt::Packet reply;
  try {
    reply = await([](const mqtt::Packet &p) { return std::holds_alternative<mqtt::Connack>(p); },
                  kReplyTimeout, "CONNACK");
  } catch (const Error &error) {
    // Under TLS 1.3 a refused certificate shows only now, as an alert.
    throw Error(Reason::peer_refused, "the hub refused the connection: " + error.detail());
  }
  auto code = std::get<mqtt::Connack>(reply).code;
  if (code != mqtt::ConnackCode::accepted)
    throw Error(Reason::peer_refused, "the hub answered CONNACK " + std::to_string(int(code)) +
                                          " (" + connack_text(code) + ")");
  narrator_.check("hub accepted " + connect.client_id + " (CONNACK 0)");
}

void HubClient::send_telemetry(const std::string &payload) {
  std::string device = misbehaviour_.publish_as.empty()
                           ? pki::common_name(X509_get_subject_name(certificate_.get())).value_or("")
                           : misbehaviour_.publish_as;
  if (!misbehaviour_.publish_as.empty())
    narrator_.say("misbehaves: publishes on " + device + "'s telemetry topic");
  std::string topic = "devices/" + device + "/messages/events/";
  std::uint16_t id = next_packet_id_++;
  write(mqtt::Publish{topic, payload, 1, false, false, id});
  try {
    await([](const mqtt::Packet &p) { return std::holds_alternative<mqtt::Puback>(p); },
          kReplyTimeout, "PUBACK");
  } catch (const Error &error) {
    throw Error(Reason::peer_refused, "the hub did not accept the telemetry: " + error.detail());
  }
  narrator_.say("-> hub: telemetry " + payload + " (acknowledged, QoS 1)");
}

std::string HubClient::device_id() const {
  return pki::common_name(X509_get_subject_name(certificate_.get())).value_or("");
}

void HubClient::subscribe_cloud_to_device() {
  subscribe("devices/" + device_id() + "/messages/devicebound/#");
}

void HubClient::publish(const std::string &topic, const std::string &payload) {
  write(mqtt::Publish{topic, payload, 0, false, false, 0});
}

void HubClient::on_publish(std::function<void(const mqtt::Publish &)> handler) {
  on_publish_ = std::move(handler);
}

void HubClient::serve(std::chrono::milliseconds duration) {
  using std::chrono::steady_clock;
  auto deadline = steady_clock::now() + duration;
  auto keep_alive = std::chrono::seconds(endpoint_.keep_alive);
  while (steady_clock::now() < deadline) {
    while (next_buffered()) {
    }
    auto now = steady_clock::now();
    // Ping a little early, so that the PINGREQ lands within the keep-alive.
    auto ping_at = last_write_ + keep_alive * 3 / 4;
    if (endpoint_.keep_alive > 0 && now >= ping_at) {
      write(mqtt::Pingreq{});
      continue;
    }
    auto until = endpoint_.keep_alive > 0 ? std::min(deadline, ping_at) : deadline;
    read_more(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(until - now),
                       std::chrono::milliseconds(1)));
  }
}

void HubClient::subscribe(const std::string &filter) {
  write(mqtt::Subscribe{next_packet_id_++, {{filter, 1}}});
  auto reply = await([](const mqtt::Packet &p) { return std::holds_alternative<mqtt::Suback>(p); },
                     kReplyTimeout, "SUBACK");
  if (std::get<mqtt::Suback>(reply).return_codes.at(0) == mqtt::kSubackFailure)
    throw Error(Reason::peer_refused, "the hub refused the subscription to " + filter);
  narrator_.say("-> hub: subscribed to " + filter);
}

std::vector<std::string> HubClient::receive(std::chrono::milliseconds duration,
                                            std::size_t at_most) {
  auto deadline = std::chrono::steady_clock::now() + duration;
  while (received_.size() < at_most && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    try {
      await([](const mqtt::Packet &p) { return std::holds_alternative<mqtt::Publish>(p); }, left,
            "message");
    } catch (const Error &) {
      break; // the time is up
    }
  }
  return received_;
}

void HubClient::disconnect() {
  if (!connection_)
    return;
  write(mqtt::Disconnect{});
  connection_->close();
  connection_.reset();
}

} // namespace chainlab::device
