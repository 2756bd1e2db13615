#include "hub/hub_actor.hpp"

#include <filesystem>
#include <iomanip>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "hsm/file_key_store.hpp"
#include "hub/device_gateway.hpp"
#include "hub/event_feed.hpp"
#include "hub/service_api.hpp"
#include "net/descriptors.hpp"
#include "net/https_server.hpp"
#include "net/tls_context.hpp"
#include "ossl/ec_key_decoding.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/inspect.hpp"

namespace chainlab::hub {
namespace {

constexpr const char *kServiceCaKey = "service-ca";
constexpr const char *kTlsKey = "tls";
constexpr std::uint64_t kWantedDescriptors = 1 << 20;

struct Paths {
  std::string root;
  std::string db() const { return root + "/hub.db"; }
  std::string keys() const { return root + "/keys"; }
  std::string service_ca() const { return root + "/hub-ca.pem"; }
  std::string server_cert() const { return root + "/server.pem"; }
  std::string token(const std::string &hub) const { return root + "/hubs/" + hub + ".token"; }
};

ossl::Ptr<X509> load_cert(const std::string &file) {
  return pki::parse_certificate(pki::read_file(file), file);
}

void require_initialised(const Paths &paths) {
  if (!std::filesystem::exists(paths.service_ca()))
    throw Error(Reason::config_invalid, paths.service_ca() + ": missing; run `hub init` first");
}

ossl::Ptr<X509> sign(pki::Profile profile, const std::string &subject, EVP_PKEY *subject_key,
                     X509 *issuer, EVP_PKEY *issuer_key, std::chrono::hours lifetime) {
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(subject_key);
  plan.profile = profile;
  plan.not_before = now() - std::chrono::minutes(5);
  plan.not_after = now() + lifetime;
  return pki::sign_certificate(plan, issuer, issuer_key);
}

} // namespace

void init_hub(const std::string &state_dir, Narrator &narrator) {
  Paths paths{state_dir};
  if (std::filesystem::exists(paths.service_ca()))
    throw Error(Reason::config_invalid, paths.service_ca() + ": the hub is already initialised");
  std::filesystem::create_directories(state_dir + "/hubs");
  hsm::FileKeyStore keys(paths.keys());
  keys.generate_key(kServiceCaKey, hsm::KeyType::ec_p256);
  keys.generate_key(kTlsKey, hsm::KeyType::ec_p256);
  auto ca_key = keys.load_key(kServiceCaKey);
  auto tls_key = keys.load_key(kTlsKey);
  auto ca = sign(pki::Profile::root_ca, "CN=chainlab IoT Hub service CA", ca_key.get(), nullptr,
                 ca_key.get(), std::chrono::hours(24 * 3650));
  auto server = sign(pki::Profile::tls_server, "CN=localhost", tls_key.get(), ca.get(),
                     ca_key.get(), std::chrono::hours(24 * 365));
  pki::write_file_atomically(paths.service_ca(), pki::to_pem(ca.get()));
  pki::write_file_atomically(paths.server_cert(), pki::to_pem(server.get()));
  registry::HubRegistry registry(paths.db());
  narrator.say("initialised the hub service; devices and operators pin its service CA " +
               pki::sha256_fingerprint(ca.get()));
}

std::string create_tenant(const std::string &state_dir, const std::string &name,
                          Narrator &narrator) {
  Paths paths{state_dir};
  require_initialised(paths);
  if (name.empty() || name.find_first_of("/?#% ") != std::string::npos)
    throw Error(Reason::config_invalid, "hub name \"" + name + "\" must be non-empty, without / ? # % or spaces");
  registry::HubRegistry registry(paths.db());
  std::string token = registry.create_hub(name);
  pki::write_file_atomically(paths.token(name), token + "\n", 0600);
  narrator.say("created hub \"" + name + "\"; its service token is in " + paths.token(name));
  return token;
}

namespace {

// EventFlusher writes the refusals waiting in the registry in batches, a
// few times a second, until it is destroyed.
class EventFlusher {
public:
  explicit EventFlusher(registry::HubRegistry &registry)
      : thread_([this, &registry] {
          std::unique_lock lock(mutex_);
          while (!stopping_) {
            stop_.wait_for(lock, std::chrono::milliseconds(200));
            lock.unlock();
            try {
              registry.flush_events();
            } catch (const Error &) { // the disk failed; the next batch tries again
            }
            lock.lock();
          }
        }) {}
  ~EventFlusher() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

// hub_of names the hub a service API path is about, for the event log.
std::string hub_of(const std::string &target) {
  const std::string prefix = "/hubs/";
  if (target.rfind(prefix, 0) != 0)
    return "";
  return target.substr(prefix.size(), target.find_first_of("/?", prefix.size()) - prefix.size());
}

// cloud_to_device_through and methods_through: the service API's ways to
// a connected device, through the gateway.
CloudToDevice cloud_to_device_through(DeviceGateway &gateway) {
  return [&gateway](const std::string &hub, const std::string &device,
                    const std::string &properties, const std::string &payload) {
    return gateway.send_cloud_to_device(hub, device, properties, payload);
  };
}

InvokeMethod methods_through(DeviceGateway &gateway) {
  return [&gateway](const std::string &hub, const std::string &device, const std::string &method,
                    const std::string &payload, std::chrono::milliseconds timeout,
                    std::function<void(Result<MethodAnswer>)> done) {
    gateway.invoke_method(hub, device, method, payload, timeout,
                          [done](Result<DeviceGateway::MethodResult> answer) {
                            if (!answer)
                              return done(answer.error());
                            done(MethodAnswer{answer.value().status, answer.value().payload});
                          });
  };
}

// failures_recorded_in: a request that failed inside the hub was answered
// 500; it is narrated, and recorded as an event of the hub it named.
net::FailureReporter failures_recorded_in(registry::HubRegistry &registry, Narrator &narrator) {
  return [&registry, &narrator](const HttpRequest &request, const std::string &what) {
    std::string hub = hub_of(request.target);
    std::string detail = request.method + " " + request.target.substr(0, 200) +
                         " failed inside the hub (" + what + "); answered 500, serving on";
    if (registry.hub_exists(hub))
      registry.add_event({0, hub, now(), "internal_error", "internal_error", "service API",
                          detail});
    narrator.refuse("internal_error", detail);
  };
}

} // namespace

void serve_hub(const std::string &state_dir, const ServeOptions &options, Narrator &narrator) {
  Paths paths{state_dir};
  require_initialised(paths);
  // A hub holds a descriptor per connected device.
  auto descriptors = net::raise_open_file_limit(kWantedDescriptors);
  // Before any thread starts: each device chain's keys decode without
  // OpenSSL 3.0's per-key decoder lookup.
  if (auto why = ossl::use_builtin_ec_key_decoding(); !why.empty())
    narrator.say("certificate keys decode through OpenSSL's providers (" + why + ")");
  hsm::FileKeyStore keys(paths.keys());
  auto tls_key = keys.load_key(kTlsKey);
  auto server_cert = load_cert(paths.server_cert());
  pki::CertList chain;
  chain.push_back(load_cert(paths.service_ca()));
  auto context = net::make_server_context({server_cert.get(), &chain, tls_key.get()}, nullptr);
  registry::HubRegistry registry(paths.db());
  registry.set_event_retention(options.event_retention);
  EventFlusher flusher(registry);
  CaRegistration registration(registry, narrator, RegistrationPolicy{options.code_lifetime});
  TrustStore trust(registry);

  // Devices: one MQTT-over-TLS listener per named hub, on every core.
  DeviceGateway gateway(registry, trust, narrator, {server_cert.get(), &chain, tls_key.get()},
                        options.connections);
  trust.set_listener([&](const std::string &hub) { gateway.end_sessions_no_longer_admitted(hub); });
  for (const auto &hub : registry.hub_names()) {
    std::uint16_t port = gateway.listen(hub, 0);
    pki::write_file_atomically(paths.root + "/hubs/" + hub + ".mqtt.port",
                               std::to_string(port) + "\n");
    narrator.say("[" + hub + "] devices connect with MQTT over mutual TLS to localhost:" +
                 std::to_string(port));
  }
  gateway.start(std::max(2u, std::thread::hardware_concurrency()));

  EventFeed feed(registry, std::chrono::seconds(15)); // a quiet stream hears every 15 s
  ServiceContext service{registry, registration, trust, cloud_to_device_through(gateway),
                         methods_through(gateway), &feed};
  net::HttpsServer api(
      context.get(),
      [&](const HttpRequest &request, const net::PeerInfo &peer, net::Respond respond) {
        if (request.target.find("/dashboard") == std::string::npos) // a live page asks often
          narrator.say("<- " + peer.address + ": " + request.method + " " +
                       request.target.substr(0, 200));
        handle_service_request(service, request, std::move(respond));
      },
      "127.0.0.1", options.api_port, failures_recorded_in(registry, narrator));
  pki::write_file_atomically(state_dir + "/api.port", std::to_string(api.port()) + "\n");
  narrator.say("service API listening on https://127.0.0.1:" + std::to_string(api.port()) +
               " (up to " + std::to_string(descriptors) + " open descriptors)");
  api.run(2); // until SIGINT/SIGTERM; no request waits for a device
  feed.close(); // the pages still waiting hear before their sessions go
  gateway.stop();
  narrator.say("hub stopped");
}

void print_events(const std::string &state_dir, const std::string &hub, std::ostream &out) {
  Paths paths{state_dir};
  require_initialised(paths);
  registry::HubRegistry registry(paths.db());
  if (!registry.hub_exists(hub))
    throw Error(Reason::not_found, "no hub named \"" + hub + "\" in " + paths.db());
  // Page by page: a long history is printed, never held whole in memory.
  constexpr std::size_t kPage = 1000;
  std::int64_t last = 0;
  for (bool more = true; more;) {
    auto page = registry.events(hub, last, kPage);
    for (const auto &event : page) {
      out << std::setw(5) << event.id << "  " << pki::format_time(event.time) << "  "
          << std::left << std::setw(26) << event.kind << std::setw(28) << event.reason
          << std::right << event.detail << "\n";
      last = event.id;
    }
    more = page.size() == kPage;
  }
  auto refusals = registry.refusal_counts(hub, last);
  out << "refusals by reason:";
  if (refusals.empty())
    out << " none";
  for (const auto &[reason, count] : refusals)
    out << " " << reason << "=" << count;
  out << "\n";
}

std::string service_fingerprint(const std::string &state_dir) {
  Paths paths{state_dir};
  require_initialised(paths);
  return pki::sha256_fingerprint(load_cert(paths.service_ca()).get());
}

} // namespace chainlab::hub
