// Follows Boost.Beast's async clients: do_x/on_x pairs, a deadline on each
// phase, one write in flight per connection.
#include "device/fleet_load.hpp"

#include <utility> // Boost 1.74's asio needs it before GCC 12 headers

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <nlohmann/json.hpp>


#include <deque>
#include <functional>
#include <iomanip>
#include <sstream>

#include <unistd.h>

#include "mqtt/codec.hpp"
#include "net/descriptors.hpp"
#include "net/tls_context.hpp"

namespace chainlab::device {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kSetupDeadline = std::chrono::seconds(10);
constexpr auto kAckDeadline = std::chrono::seconds(10);
// Short-lived connections leave TIME_WAIT behind on the client; spreading
// them over many loopback source addresses keeps ephemeral ports free.
constexpr unsigned kSourceAddresses = 200;

const char *mode_name(LoadMode mode) {
  switch (mode) {
  case LoadMode::connect_rate: return "connect-rate";
  case LoadMode::hold: return "hold";
  case LoadMode::telemetry: return "telemetry";
  }
  return "?";
}

class Load;

class Session : public std::enable_shared_from_this<Session> {
public:
  Session(Load &load, const FleetIdentity &device, std::size_t number);
  void start();
  void stop();

private:
  void fail(const std::string &reason);
  void arm(std::chrono::steady_clock::duration after, const char *waiting_for);
  void on_connect(boost::system::error_code error);
  void on_handshake(boost::system::error_code error);
  void send(const mqtt::Packet &packet);
  void do_write();
  void do_read();
  void on_read(boost::system::error_code error, std::size_t size);
  void on_packet(const mqtt::Packet &packet);
  void on_connack(const mqtt::Connack &connack);
  void schedule_publish();
  void schedule_ping();

  Load &load_;
  const FleetIdentity &device_;
  std::size_t number_;
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer deadline_, pacer_;
  SteadyClock::time_point started_;
  std::deque<std::vector<std::uint8_t>> writes_;
  std::array<std::uint8_t, 512> read_buffer_{};
  std::vector<std::uint8_t> inbound_;
  std::map<std::uint16_t, SteadyClock::time_point> unacked_;
  std::uint16_t next_packet_id_ = 1;
  bool connected_ = false, done_ = false;
};

class Load {
public:
  Load(const Fleet &fleet, const FleetTarget &target, const LoadOptions &options,
       std::ostream &progress)
      : fleet_(fleet), target_(target), options_(options), progress_(progress),
        tls_(target.pinned_fingerprint, target.server_name), reporter_(io_), ender_(io_) {
    SSL_CTX_set_min_proto_version(tls_.get(), TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(tls_.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_up_ref(tls_.get()); // the asio context owns one reference
    context_ = std::make_unique<asio::ssl::context>(tls_.get());
    endpoint_ = tcp::endpoint(asio::ip::make_address(target.host), target.port);
  }

  LoadReport run();

  // Called by sessions.
  void connected(Session &) {
    ++held_;
    --setting_up_;
    if (options_.mode == LoadMode::connect_rate)
      return;
    start_more();
  }
  void finished(bool was_connected) {
    if (was_connected)
      --held_;
    else
      --setting_up_;
    start_more();
  }
  void record_success(SteadyClock::duration latency) {
    if (measuring_)
      stats_.success(latency);
  }
  void record_setup(SteadyClock::duration latency) {
    setup_stats_.success(latency);
    setup_end_ = SteadyClock::now();
  }
  void record_failure(const std::string &reason) {
    if (!stopping_)
      stats_.failure(reason);
  }
  bool stopping() const { return stopping_; }
  const LoadOptions &options() const { return options_; }
  asio::io_context &io() { return io_; }
  asio::ssl::context &tls() { return *context_; }
  const pki::CertList &intermediates() const { return fleet_.intermediates; }
  const FleetTarget &target() const { return target_; }
  const tcp::endpoint &endpoint() const { return endpoint_; }

private:
  std::size_t wanted_devices() const {
    return options_.devices ? std::min(options_.devices, fleet_.devices.size())
                            : fleet_.devices.size();
  }
  void start_more();
  void begin_measuring();
  void report_progress();
  LoadReport finish();

  const Fleet &fleet_;
  const FleetTarget &target_;
  const LoadOptions &options_;
  std::ostream &progress_;
  asio::io_context io_;
  net::PinnedClientContext tls_;
  std::unique_ptr<asio::ssl::context> context_;
  tcp::endpoint endpoint_;
  asio::steady_timer reporter_, ender_;
  std::vector<std::weak_ptr<Session>> sessions_;
  std::size_t next_device_ = 0, started_ = 0, setting_up_ = 0, held_ = 0;
  bool measuring_ = false, stopping_ = false;
  LoadStats stats_, setup_stats_; // setup: hold/telemetry's connecting phase
  SteadyClock::time_point run_start_, measure_start_, measure_end_, setup_end_;
  std::optional<ProcessSample> server_before_, server_idle_, server_after_;
  std::optional<ProcessSample> generator_before_, generator_after_; // this process
  std::size_t held_at_end_ = 0;
  std::size_t last_reported_ = 0;
  bool last_was_setup_ = true;
};

Session::Session(Load &load, const FleetIdentity &device, std::size_t number)
    : load_(load), device_(device), number_(number), stream_(load.io(), load.tls()),
      deadline_(load.io()), pacer_(load.io()) {
  SSL *ssl = stream_.native_handle();
  SSL_use_certificate(ssl, device.certificate.get());
  SSL_use_PrivateKey(ssl, device.key.get());
  for (const auto &cert : load.intermediates())
    SSL_add1_chain_cert(ssl, cert.get());
  SSL_set_tlsext_host_name(ssl, load.target().server_name.c_str());
}

void Session::start() {
  started_ = SteadyClock::now();
  arm(kSetupDeadline, "CONNACK");
  auto &socket = stream_.next_layer();
  boost::system::error_code error;
  socket.open(tcp::v4(), error);
  auto source = asio::ip::address_v4(0x7f000100u + 1 + unsigned(number_ % kSourceAddresses));
  if (!error)
    socket.bind(tcp::endpoint(source, 0), error);
  if (!error)
    socket.set_option(tcp::no_delay(true), error);
  if (error)
    return fail("socket: " + error.message());
  socket.async_connect(load_.endpoint(), [self = shared_from_this()](boost::system::error_code e) {
    self->on_connect(e);
  });
}

void Session::stop() {
  if (done_)
    return;
  done_ = true;
  deadline_.cancel();
  pacer_.cancel();
  boost::system::error_code ignored;
  stream_.next_layer().close(ignored);
  load_.finished(connected_);
}

void Session::fail(const std::string &reason) {
  if (done_)
    return;
  load_.record_failure(reason);
  stop();
}

void Session::arm(std::chrono::steady_clock::duration after, const char *waiting_for) {
  deadline_.expires_after(after);
  deadline_.async_wait([weak = weak_from_this(), waiting_for](boost::system::error_code error) {
    if (auto self = weak.lock(); self && !error)
      self->fail(std::string("timeout waiting for ") + waiting_for);
  });
}

void Session::on_connect(boost::system::error_code error) {
  if (error)
    return fail("tcp: " + error.message());
  stream_.async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](boost::system::error_code e) {
                            self->on_handshake(e);
                          });
}

void Session::on_handshake(boost::system::error_code error) {
  if (error)
    return fail("tls: " + error.message());
  mqtt::Connect connect;
  connect.client_id = device_.device_id;
  connect.username = load_.target().server_name + "/" + device_.device_id +
                     "/?api-version=2021-04-12";
  connect.keep_alive = load_.options().keep_alive;
  send(connect);
  do_read();
}

void Session::send(const mqtt::Packet &packet) {
  auto bytes = mqtt::encode(packet);
  if (!bytes)
    return fail(bytes.error().detail());
  writes_.push_back(std::move(bytes.value()));
  if (writes_.size() == 1)
    do_write();
}

void Session::do_write() {
  asio::async_write(stream_, asio::buffer(writes_.front()),
                    [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                      if (self->done_)
                        return;
                      // Before CONNACK, TLS 1.3 tells a refused certificate by
                      // an alert that the pending read reports; a write may
                      // only see the reset that follows it.
                      if (error && !self->connected_)
                        return;
                      if (error)
                        return self->fail("write: " + error.message());
                      self->writes_.pop_front();
                      if (!self->writes_.empty())
                        self->do_write();
                    });
}

void Session::do_read() {
  stream_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                          boost::system::error_code error,
                                                          std::size_t size) {
    self->on_read(error, size);
  });
}

void Session::on_read(boost::system::error_code error, std::size_t size) {
  if (done_)
    return;
  if (error) // under TLS 1.3 a refused certificate arrives here, as an alert
    return fail((connected_ ? "closed by server: " : "tls: ") + error.message());
  inbound_.insert(inbound_.end(), read_buffer_.begin(), read_buffer_.begin() + long(size));
  try {
    for (;;) {
      auto frame = mqtt::read_frame(inbound_);
      if (frame.status != mqtt::Frame::Status::complete)
        break;
      auto packet = mqtt::decode_packet(
          frame.first_byte, std::span(inbound_).subspan(frame.header_size, frame.remaining_length));
      inbound_.erase(inbound_.begin(), inbound_.begin() + long(frame.total_size()));
      if (!packet)
        return fail("malformed packet from server");
      on_packet(packet.value());
      if (done_)
        return;
    }
  } catch (const Error &) {
    return fail("malformed packet from server");
  }
  do_read();
}

void Session::on_packet(const mqtt::Packet &packet) {
  if (auto *connack = std::get_if<mqtt::Connack>(&packet))
    return on_connack(*connack);
  if (auto *puback = std::get_if<mqtt::Puback>(&packet)) {
    auto sent = unacked_.find(puback->packet_id);
    if (sent != unacked_.end()) {
      load_.record_success(SteadyClock::now() - sent->second);
      unacked_.erase(sent);
    }
    if (unacked_.empty())
      deadline_.cancel();
  }
}

void Session::on_connack(const mqtt::Connack &connack) {
  deadline_.cancel();
  if (connack.code != mqtt::ConnackCode::accepted)
    return fail("connack " + std::to_string(int(connack.code)));
  connected_ = true;
  if (load_.options().mode != LoadMode::connect_rate)
    load_.record_setup(SteadyClock::now() - started_);
  load_.connected(*this);
  switch (load_.options().mode) {
  case LoadMode::connect_rate:
    load_.record_success(SteadyClock::now() - started_);
    send(mqtt::Disconnect{});
    // The server closes after DISCONNECT; the next connection starts now.
    done_ = true;
    asio::async_write(stream_, asio::buffer(writes_.back()),
                      [self = shared_from_this()](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        self->stream_.next_layer().close(ignored);
                      });
    load_.finished(true);
    return;
  case LoadMode::hold:
    return schedule_ping();
  case LoadMode::telemetry:
    schedule_ping();
    return schedule_publish();
  }
}

void Session::schedule_ping() {
  if (load_.options().mode == LoadMode::telemetry && load_.options().rate * 60 > 1)
    return; // publishes keep the session alive
  auto every = std::chrono::seconds(std::max(1, load_.options().keep_alive / 2));
  pacer_.expires_after(every);
  pacer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (error || self->done_)
      return;
    self->send(mqtt::Pingreq{});
    self->schedule_ping();
  });
}

void Session::schedule_publish() {
  auto period = std::chrono::duration<double>(1.0 / load_.options().rate);
  // Spread the fleet's first messages over one period.
  auto first = period * double(number_ % 1000) / 1000.0;
  pacer_.expires_after(std::chrono::duration_cast<SteadyClock::duration>(
      unacked_.empty() && next_packet_id_ == 1 ? first : period));
  pacer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (error || self->done_ || self->load_.stopping())
      return;
    std::uint16_t id = self->next_packet_id_++;
    if (self->next_packet_id_ == 0)
      self->next_packet_id_ = 1;
    std::string payload(self->load_.options().payload_bytes, 'x');
    self->unacked_[id] = SteadyClock::now();
    self->send(mqtt::Publish{"devices/" + self->device_.device_id + "/messages/events/",
                             payload, 1, false, false, id});
    self->arm(kAckDeadline, "PUBACK");
    self->schedule_publish();
  });
}

void Load::start_more() {
  if (stopping_)
    return;
  bool cycling = options_.mode == LoadMode::connect_rate;
  while (setting_up_ < options_.in_flight && (cycling || started_ < wanted_devices())) {
    auto &device = fleet_.devices[next_device_++ % fleet_.devices.size()];
    auto session = std::make_shared<Session>(*this, device, started_++);
    ++setting_up_;
    sessions_.push_back(session);
    session->start();
  }
  if (!cycling && !measuring_ && setting_up_ == 0 && started_ >= wanted_devices())
    begin_measuring();
}

void Load::begin_measuring() {
  measuring_ = true;
  measure_start_ = SteadyClock::now();
  if (options_.server_pid)
    server_before_ = sample_process(*options_.server_pid);
  generator_before_ = sample_process(::getpid());
  progress_ << "fleet: measuring " << mode_name(options_.mode) << " for "
            << options_.duration.count() << " s with " << held_ << " held" << std::endl;
  ender_.expires_after(options_.duration);
  ender_.async_wait([this](boost::system::error_code error) {
    if (error)
      return;
    measure_end_ = SteadyClock::now();
    held_at_end_ = held_;
    if (options_.server_pid)
      server_after_ = sample_process(*options_.server_pid);
    generator_after_ = sample_process(::getpid());
    measuring_ = false;
    stopping_ = true;
    reporter_.cancel();
    for (auto &weak : sessions_)
      if (auto session = weak.lock())
        session->stop();
  });
}

void Load::report_progress() {
  reporter_.expires_after(options_.report_every);
  reporter_.async_wait([this](boost::system::error_code error) {
    if (error || stopping_)
      return;
    auto elapsed = std::chrono::duration<double>(SteadyClock::now() - run_start_).count();
    bool setup = !measuring_ && options_.mode != LoadMode::connect_rate;
    std::size_t done = setup ? setup_stats_.successes() : stats_.successes();
    if (setup != last_was_setup_)
      last_reported_ = 0; // the measured count starts from zero
    last_was_setup_ = setup;
    progress_ << "fleet: " << std::fixed << std::setprecision(0) << elapsed << " s, "
              << (setup ? "connecting, connected " : "measuring, ok ") << done << " (+"
              << done - last_reported_ << "), failed " << stats_.failed() << ", held " << held_
              << ", setting up " << setting_up_ << std::endl;

    last_reported_ = done;
    // Forget sessions that ended, so the list stays as long as the fleet.
    std::erase_if(sessions_, [](const std::weak_ptr<Session> &s) { return s.expired(); });
    report_progress();
  });
}

LoadReport Load::run() {
  net::raise_open_file_limit(std::max<std::size_t>(wanted_devices(), options_.in_flight) + 256);
  run_start_ = SteadyClock::now();
  if (options_.server_pid)
    server_idle_ = sample_process(*options_.server_pid);
  if (options_.mode == LoadMode::connect_rate)
    begin_measuring();
  start_more();
  report_progress();
  io_.run();
  return finish();
}

LoadReport Load::finish() {
  LoadReport report;
  report.mode = mode_name(options_.mode);
  report.seconds = std::chrono::duration<double>(measure_end_ - measure_start_).count();
  report.operations = stats_.successes();
  report.per_second = report.seconds > 0 ? double(report.operations) / report.seconds : 0;
  report.p50_ms = stats_.percentile_ms(50);
  report.p99_ms = stats_.percentile_ms(99);
  report.failures = stats_.failures();
  report.held = options_.mode == LoadMode::connect_rate ? 0 : held_at_end_;
  report.connects = setup_stats_.successes();
  if (report.connects)
    report.connect_seconds = std::chrono::duration<double>(setup_end_ - run_start_).count();
  report.connects_per_second =
      report.connect_seconds > 0 ? double(report.connects) / report.connect_seconds : 0;
  report.connect_p50_ms = setup_stats_.percentile_ms(50);
  report.connect_p99_ms = setup_stats_.percentile_ms(99);
  if (generator_before_ && generator_after_ && report.operations) {
    double cpu = generator_after_->cpu_seconds - generator_before_->cpu_seconds;
    report.generator_cpu_ms_per_operation = cpu * 1000 / double(report.operations);
    report.generator_cpu_percent = report.seconds > 0 ? cpu * 100 / report.seconds : 0;
  }
  if (server_before_ && server_after_) {
    double cpu = server_after_->cpu_seconds - server_before_->cpu_seconds;
    if (report.operations)
      report.server_cpu_ms_per_operation = cpu * 1000 / double(report.operations);
    if (report.seconds > 0)
      report.server_cpu_percent = cpu * 100 / report.seconds;
    report.server_rss_bytes = server_after_->rss_bytes;
    if (server_idle_ && report.held)
      report.server_bytes_per_held_connection =
          (double(server_after_->rss_bytes) - double(server_idle_->rss_bytes)) /
          double(report.held);
  }
  return report;
}

std::string megabytes(std::uint64_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << double(bytes) / (1024.0 * 1024.0) << " MiB";
  return out.str();
}

} // namespace

std::optional<Error> nothing_succeeded(const LoadReport &report) {
  if (report.operations > 0 || report.held > 0)
    return std::nullopt;
  std::string failures;
  bool unreachable = !report.failures.empty();
  for (const auto &[why, count] : report.failures) {
    failures += (failures.empty() ? "" : "; ") + std::to_string(count) + " x " + why;
    unreachable = unreachable && why.starts_with("tcp:");
  }
  std::ostringstream seconds;
  seconds << std::fixed << std::setprecision(1) << report.seconds;
  return Error(unreachable ? Reason::peer_unreachable : Reason::peer_refused,
               "fleet run --mode " + report.mode + ": nothing succeeded in " + seconds.str() +
                   " s (" + (failures.empty() ? "and nothing failed: the server did not answer"
                                              : failures) +
                   ")");
}

void print_report(const LoadReport &report, std::ostream &out) {
  out << std::fixed << std::setprecision(1);
  out << "mode " << report.mode << ": " << report.operations << " "
      << (report.mode == "telemetry" ? "messages acknowledged" : "connects") << " in "
      << report.seconds << " s = " << report.per_second << "/s; latency p50 " << std::setprecision(2)
      << report.p50_ms << " ms, p99 " << report.p99_ms << " ms\n";
  if (report.mode != "connect-rate")
    out << "connecting: " << report.connects << " connects in " << std::setprecision(1)
        << report.connect_seconds << " s = " << report.connects_per_second << "/s; latency p50 "
        << std::setprecision(2) << report.connect_p50_ms << " ms, p99 " << report.connect_p99_ms
        << " ms; held at the end: " << report.held << "\n";
  if (report.failures.empty())
    out << "failures: none\n";
  for (const auto &[reason, count] : report.failures)
    out << "failures: " << count << " x " << reason << "\n";
  out << std::setprecision(3);
  if (report.server_cpu_ms_per_operation)
    out << "server CPU: " << *report.server_cpu_ms_per_operation << " ms per "
        << (report.mode == "telemetry" ? "message" : "connect") << " ("
        << std::setprecision(0) << *report.server_cpu_percent << "% of a core)\n";
  if (report.generator_cpu_ms_per_operation)
    out << "load generator CPU: " << std::setprecision(3) << *report.generator_cpu_ms_per_operation
        << " ms per "
        << (report.mode == "telemetry" ? "message" : "connect") << " (" << std::setprecision(0)
        << *report.generator_cpu_percent << "% of a core, one thread)\n" << std::setprecision(3);
  if (report.server_rss_bytes)
    out << "server RSS: " << megabytes(*report.server_rss_bytes) << "\n";
  if (report.server_bytes_per_held_connection)
    out << "server memory per held connection: " << std::setprecision(1)
        << *report.server_bytes_per_held_connection / 1024.0 << " KiB\n";
  out << std::flush;
}

std::string report_json(const LoadReport &report) {
  nlohmann::json out = {{"mode", report.mode},
                        {"seconds", report.seconds},
                        {"operations", report.operations},
                        {"per_second", report.per_second},
                        {"p50_ms", report.p50_ms},
                        {"p99_ms", report.p99_ms},
                        {"held", report.held},
                        {"connects", report.connects},
                        {"connect_seconds", report.connect_seconds},
                        {"connects_per_second", report.connects_per_second},
                        {"connect_p50_ms", report.connect_p50_ms},
                        {"connect_p99_ms", report.connect_p99_ms},
                        {"failures", report.failures}};
  if (report.server_cpu_ms_per_operation)
    out["server_cpu_ms_per_operation"] = *report.server_cpu_ms_per_operation;
  if (report.server_cpu_percent)
    out["server_cpu_percent"] = *report.server_cpu_percent;
  if (report.generator_cpu_ms_per_operation) {
    out["generator_cpu_ms_per_operation"] = *report.generator_cpu_ms_per_operation;
    out["generator_cpu_percent"] = *report.generator_cpu_percent;
  }
  if (report.server_rss_bytes)
    out["server_rss_bytes"] = *report.server_rss_bytes;
  if (report.server_bytes_per_held_connection)
    out["server_bytes_per_held_connection"] = *report.server_bytes_per_held_connection;
  return out.dump();
}

LoadReport run_load(const Fleet &fleet, const FleetTarget &target, const LoadOptions &options,
                    std::ostream &progress) {
  if (fleet.devices.empty())
    throw Error(Reason::config_invalid, "the fleet holds no identities");
  Load load(fleet, target, options, progress);
  return load.run();
}

} // namespace chainlab::device
