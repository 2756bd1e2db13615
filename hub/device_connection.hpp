// hub/device_connection.hpp: one device's connection to the gateway: TLS,
// MQTT framing, deadlines and back-pressure around a DeviceSession. Its
// structure follows Boost.Beast's async servers: a strand per connection,
// do_x/on_x pairs, a deadline on every phase, one write in flight.
#pragma once

#include <algorithm>
#include <list>
#include <optional>

#include "core/clock.hpp"
#include "core/protocol_codes.hpp"
#include "hub/device_handshake.hpp"
#include "hub/device_session.hpp"
#include "hub/gateway_impl.hpp"
#include "hub/late_mailbox.hpp"
#include "hub/liveness.hpp"
#include "mqtt/codec.hpp"
#include "ossl/errors.hpp"

namespace chainlab::hub::gateway {

class Connection : public std::enable_shared_from_this<Connection> {
public:
  using Mailbox = LateMailbox<Connection>;
  friend Mailbox; // it calls run_late and on_landed on the strand

  Connection(TlsSocket::Socket socket, Tenant &tenant, DeviceGateway::Impl &gateway,
             std::shared_ptr<ConnectionLimits::Place> place, const tcp::endpoint &peer)
      : stream_(std::move(socket), tenant.native.get()), deadline_(stream_.get_executor()),
        tenant_(tenant), gateway_(gateway), place_(std::move(place)) {
    identity_->hub = tenant.name;
    identity_->peer_address = peer.address().to_string() + ":" + std::to_string(peer.port());
    connect_deadline_ = std::chrono::steady_clock::now() + kConnectDeadline;
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_handshake(); });
  }

  // Called from the handshake's verify callback, on this connection's
  // strand. The decision is authenticate_device's; this only transports it.
  // (OpenSSL 3.0 refuses a client's renegotiation, so it runs once; a second
  // chain after the session took the identity would be refused.)
  bool verify_chain(X509_STORE_CTX *store_ctx) {
    if (!identity_)
      return false;
    judged_ = std::make_unique<ChainJudgement>(
        judge_presented_chain(*gateway_.trust.snapshot(tenant_.name), store_ctx, now()));
    identity_->device_id = judged_->device_id;
    const auto &verdict = judged_->verdict;
    if (!judged_->proceeds())
      gateway_.services.record_handshake_refusal(*identity_, verdict.error());
    else if (!verdict)
      identity_->refusal = verdict.error(); // answered with CONNACK 5
    else
      adopt(verdict.value(), *identity_);
    return judged_->proceeds();
  }

  // identity: what the handshake proved; the session holds it once TLS is done.
  const DeviceIdentity &identity() const { return session_ ? session_->identity() : *identity_; }

  // end_session: an operator's decision took this device's admission away.
  void end_session(const Error &why) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), why] {
      if (self->closing_)
        return;
      self->gateway_.services.record_event(self->identity().hub, "session_ended",
                                           std::string(to_string(why.reason())),
                                           self->identity().device_id,
                                           "ended the live session of " +
                                               self->identity().device_id + ": " + why.detail());
      self->closing_ = true;
      if (self->writes_.empty())
        self->do_close(); // else on_write closes once the queue drains
    });
  }

  void deliver(const PendingMessage &message) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), message] {
      auto packet = self->session_ && !self->closing_
                        ? self->session_->cloud_to_device(message.properties, message.payload)
                        : std::nullopt;
      if (packet)
        self->queue(*packet);
      else // not subscribed (yet): it waits for the next subscription
        self->gateway_.queue_for_next_subscription(self->key(), message);
    });
  }
  // call_method hands a method request to the session; |sent| hears
  // false if the device has not subscribed to methods.
  void call_method(const std::string &method, const std::string &request_id,
                   const std::string &payload, std::function<void(bool)> sent) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), method, request_id,
                                            payload, sent = std::move(sent)] {
      auto packet = self->session_ && !self->closing_
                        ? self->session_->method_request(method, request_id, payload)
                        : std::nullopt;
      if (packet)
        self->queue(*packet);
      sent(packet.has_value());
    });
  }
  void drop_as_duplicate() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_close(); });
  }
  std::string key() const { return identity().hub + "/" + identity().device_id; }

private:
  void arm_deadline(std::chrono::steady_clock::duration after) {
    arm_deadline_at(std::chrono::steady_clock::now() + after);
  }
  // arm_deadline_at moves the deadline; the timer is re-armed only if it
  // would wake too late (see Liveness).
  void arm_deadline_at(std::chrono::steady_clock::time_point when) {
    liveness_.set_deadline(when);
    schedule_wake();
  }
  void schedule_wake() {
    auto wake = liveness_.next_wake();
    if (timer_waiting_ && timer_at_ <= wake)
      return;
    timer_waiting_ = true;
    timer_at_ = wake;
    deadline_.expires_at(wake);
    deadline_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
      if (auto self = weak.lock(); self && !error)
        self->on_wake();
    });
  }
  void on_wake() {
    timer_waiting_ = false;
    switch (liveness_.due(std::chrono::steady_clock::now())) {
    case Liveness::Due::expire: {
      boost::system::error_code ignored;
      stream_.socket().close(ignored); // deadline passed: cut it
      return;
    }
    case Liveness::Due::release_buffers:
      stream_.keep_buffers(false);
      spent_.clear();
      packet_.reset();
      break;
    case Liveness::Due::nothing:
      break;
    }
    schedule_wake();
  }

  void do_handshake() {
    SSL_set_ex_data(stream_.native_handle(), gateway_.ssl_index, this);
    arm_deadline_at(connect_deadline_);
    stream_.async_accept_handshake(
        [self = shared_from_this()](boost::system::error_code error, std::size_t) {
          self->on_handshake(error);
        });
  }

  void on_handshake(boost::system::error_code error) {
    if (error) {
      bool presented = SSL_get0_peer_certificate(stream_.native_handle()) != nullptr;
      auto why = failed_handshake_reason(judged_.get(), presented,
                                         identity_->peer_address, error.message());
      if (why && why->reason() == Reason::pop_failed)
        gateway_.services.record_refusal(*identity_, *why);
      else if (why) {
        identity_->device_id = "(no certificate)";
        gateway_.services.record_handshake_refusal(*identity_, *why);
      }
      ossl::drain_errors();
      return close_socket();
    }
    session_.emplace(std::move(*identity_), gateway_.services,
                     std::make_shared<Mailbox>(weak_from_this(), stream_.get_executor()));
    judged_.reset(); // the identity keeps what the session needs
    identity_.reset(); // moved into the session, which holds it from now on
    place_->authenticated();
    release_peer_chain(stream_.native_handle());
    stream_.acknowledge_now();
    arm_deadline_at(connect_deadline_); // CONNECT must follow, within the same total
    do_read();
  }

  void do_read() {
    reading_ = true;
    stream_.async_receive([self = shared_from_this()](boost::system::error_code error,
                                                      std::span<const std::uint8_t> bytes) {
      self->on_read(error, bytes);
    });
  }

  void on_read(boost::system::error_code error, std::span<const std::uint8_t> bytes) {
    reading_ = false;
    if (error)
      return finish();
    if (liveness_.heard(std::chrono::steady_clock::now())) {
      stream_.keep_buffers(true);
      schedule_wake(); // to free them again once it is idle
    }
    inbound_.insert(inbound_.end(), bytes.begin(), bytes.end());
    process_inbound();
  }

  // run_late: an admission the session waited for has landed.
  void run_late(const LateStep &step) {
    if (shut_down_)
      return;
    bool was_admitting = session_->admitting();
    contain([&] { handle(step(*session_)); });
    if (was_admitting && session_->connected())
      now_connected();
    // Packets that arrived while CONNECT was being admitted, or while too
    // many messages waited for the disk, are taken up again.
    if ((was_admitting || paused_) && !closing_)
      process_inbound();
  }

  // on_landed: messages the session stored have landed (see LateMailbox).
  void on_landed(const std::vector<Mailbox::Landed> &landed) {
    if (shut_down_)
      return;
    contain([&] {
      for (const auto &message : landed)
        handle(session_->on_landed(message.ticket, message.kept));
    });
    if (paused_ && !closing_)
      process_inbound(); // back-pressure eased
  }

  // trim_packet_buffer: the decoded packet, and its strings' capacity, is
  // kept for the next one while the connection is busy (see Liveness),
  // unless a large message grew it.
  void trim_packet_buffer() {
    auto *publish = packet_ ? std::get_if<mqtt::Publish>(packet_.get()) : nullptr;
    if (!liveness_.buffers_kept() ||
        (publish && publish->topic.capacity() + publish->payload.capacity() > kKeptInboundCapacity))
      packet_.reset();
  }

  // must_pause: back-pressure. Too many of this device's messages wait for
  // the disk, or too many packets for it wait to be written.
  bool must_pause() const {
    return session_->saturated() || writes_.size() >= kPauseReadingAtWrites;
  }

  // process_inbound hands every complete packet to the session, holding
  // back what follows a CONNECT until its admission lands.
  void process_inbound() {
    contain([&] {
      while (!closing_ && !session_->admitting() && !(paused_ = must_pause())) {
        auto frame = mqtt::read_frame(inbound_);
        if (frame.status != mqtt::Frame::Status::complete)
          break;
        if (!packet_)
          packet_ = std::make_unique<mqtt::Packet>();
        auto malformed = mqtt::decode_packet_into(
            frame.first_byte,
            std::span(inbound_).subspan(frame.header_size, frame.remaining_length), *packet_);
        inbound_.erase(inbound_.begin(), inbound_.begin() + long(frame.total_size()));
        if (malformed) {
          gateway_.services.record_refusal(identity(), *malformed);
          return do_close();
        }
        handle(session_->on_packet(std::move(*packet_)));
      }
    });
    if (closing_)
      return;
    if (inbound_.empty() && inbound_.capacity() > kKeptInboundCapacity)
      inbound_ = {}; // a large packet's buffer is not kept by an idle device
    trim_packet_buffer();
    // MQTT 3.1.1: silence for 1.5 keep-alive periods ends the session.
    if (session_->connected())
      arm_deadline(std::chrono::milliseconds(session_->keep_alive()) * 3 / 2); // not whole seconds
    else if (inbound_.size() > kMaxHeldBytes)
      return refuse_flood();
    // The read stays pending while an admission is on its way: it holds the
    // connection, and it hears a device that gives up. Under back-pressure
    // nothing more is read: the device's TCP window closes instead.
    paused_ = paused_ || must_pause();
    // A paused connection has no read in flight to keep it alive, so it
    // holds itself until it reads again or ends.
    held_while_paused_ = paused_ ? shared_from_this() : nullptr;
    if (!reading_ && !paused_)
      do_read();
  }

  void refuse_flood() {
    gateway_.services.record_refusal(
        identity(), Error(Reason::limit_exceeded,
                         "device " + identity().device_id + " sent more than " +
                             std::to_string(kMaxHeldBytes) +
                             " bytes before its CONNECT was answered; the session was closed"));
    do_close();
  }

  // contain: whatever fails in a session ends that session only.
  template <typename Work> void contain(Work work) {
    try {
      work();
    } catch (const Error &malformed) { // framing errors from read_frame
      gateway_.services.record_refusal(identity(), malformed);
      do_close();
    } catch (const std::exception &failure) {
      gateway_.services.record_refusal(
          identity(), Error(Reason::internal_error, "the session of " + identity().device_id +
                                                       " failed inside the hub (" +
                                                       failure.what() + ") and was closed"));
      do_close();
    }
  }

  void now_connected() {
    gateway_.attach(shared_from_this());
    // An operator's change published before this attach was not seen by its
    // sweep of live sessions, so it is checked here.
    if (auto why = still_admitted(*gateway_.trust.snapshot(identity().hub),
                                  connected_record(identity())))
      end_session(*why);
  }

  void handle(const SessionOutput &output) {
    for (const auto &packet : output.send)
      queue(packet);
    if (std::any_of(output.send.begin(), output.send.end(), [](const mqtt::Packet &p) {
          return std::holds_alternative<mqtt::Suback>(p);
        }))
      for (const auto &message : gateway_.take_pending(key()))
        if (auto packet = session_->cloud_to_device(message.properties, message.payload))
          queue(*packet);
    if (output.close)
      closing_ = true;
    if (closing_ && writes_.empty())
      do_close();
  }

  void queue(const mqtt::Packet &packet) {
    if (shut_down_)
      return;
    if (writes_.size() >= kMaxQueuedWrites) {
      gateway_.services.record_refusal(
          identity(), Error(Reason::queue_full,
                           "device " + identity().device_id + " does not read what the hub sends (" +
                               std::to_string(kMaxQueuedWrites) +
                               " packets waiting): the session was closed"));
      closing_ = true;
      return finish(); // the write in flight fails and nothing more is sent
    }
    // A busy connection encodes into a spent buffer's node and capacity.
    if (spent_.empty())
      spent_.emplace_back();
    auto bytes = mqtt::encode(packet, std::move(spent_.front()));
    if (!bytes) { // built from what a device or an operator sent: say so, send nothing
      gateway_.services.record_refusal(identity(), bytes.error());
      return;
    }
    spent_.front() = std::move(bytes.value());
    writes_.splice(writes_.end(), spent_, spent_.begin());
    if (writes_.size() == 1)
      do_write();
  }

  void do_write() {
    stream_.async_write(asio::buffer(writes_.front()),
                        [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                          self->on_write(error);
                        });
  }

  void on_write(boost::system::error_code error) {
    if (error)
      return finish();
    keep_or_drop_spent();
    if (paused_ && writes_.size() == kPauseReadingAtWrites / 2 && !closing_)
      process_inbound(); // drained enough: read again
    if (!writes_.empty())
      return do_write();
    if (closing_)
      do_close();
  }

  // keep_or_drop_spent: the buffer just written is kept for the next packet
  // while the connection is busy (see Liveness), unless it grew large.
  void keep_or_drop_spent() {
    bool keep = liveness_.buffers_kept() && spent_.size() < kSpentKept &&
                writes_.front().capacity() <= kKeptInboundCapacity;
    if (keep)
      spent_.splice(spent_.end(), writes_, writes_.begin());
    else
      writes_.pop_front();
  }

  void do_close() {
    if (shut_down_)
      return;
    shut_down_ = closing_ = true;
    arm_deadline(kShutdownDeadline);
    stream_.async_shutdown([self = shared_from_this()](boost::system::error_code, std::size_t) {
      self->finish();
    });
  }

  void finish() {
    auto released = std::move(held_while_paused_); // |this| may go when this returns
    if (finished_)
      return;
    finished_ = true;
    deadline_.cancel();
    if (session_ && session_->connected())
      gateway_.detach(this);
    close_socket();
  }

  void close_socket() {
    boost::system::error_code ignored;
    deadline_.cancel();
    stream_.socket().close(ignored);
  }

  TlsSocket stream_;
  asio::basic_waitable_timer<std::chrono::steady_clock,
                             asio::wait_traits<std::chrono::steady_clock>, TlsSocket::Strand>
      deadline_;
  Tenant &tenant_;
  DeviceGateway::Impl &gateway_;
  std::shared_ptr<ConnectionLimits::Place> place_; // its share of the hub's limits
  // What the handshake proves, until the session takes it (a pointer, so that
  // a held connection does not keep an empty copy's footprint).
  std::unique_ptr<DeviceIdentity> identity_ = std::make_unique<DeviceIdentity>();
  std::unique_ptr<ChainJudgement> judged_; // during the handshake only
  Liveness liveness_;
  bool timer_waiting_ = false;
  std::chrono::steady_clock::time_point timer_at_;
  bool reading_ = false, closing_ = false, shut_down_ = false, finished_ = false;
  bool paused_ = false; // not reading: back-pressure (see must_pause)
  std::shared_ptr<Connection> held_while_paused_;
  std::chrono::steady_clock::time_point connect_deadline_;
  std::optional<DeviceSession> session_;
  std::vector<std::uint8_t> inbound_;
  // While busy, each packet is decoded into this one: a stream of PUBLISHes
  // reuses its strings (the session copies telemetry out, so they stay).
  std::unique_ptr<mqtt::Packet> packet_;
  // A list: an idle connection's empty queue allocates nothing (a deque would).
  std::list<std::vector<std::uint8_t>> writes_;
  std::list<std::vector<std::uint8_t>> spent_; // written, kept for reuse while busy
};

inline int verify_device_certificate(X509_STORE_CTX *store_ctx, void *gateway_arg) {
  auto &gateway = *static_cast<DeviceGateway::Impl *>(gateway_arg);
  SSL *ssl = static_cast<SSL *>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto *connection = static_cast<Connection *>(SSL_get_ex_data(ssl, gateway.ssl_index));
  return connection && connection->verify_chain(store_ctx) ? 1 : 0;
}

} // namespace chainlab::hub::gateway
