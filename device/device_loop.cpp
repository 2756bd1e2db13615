#include "device/device_loop.hpp"

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "device/device_actor.hpp"
#include "mqtt/codec.hpp"

namespace chainlab::device {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

bool starts_with(const std::string &text, const std::string &prefix) {
  return text.rfind(prefix, 0) == 0;
}

void provision(const std::string &state_dir, const DeviceRunOptions &options, Narrator &narrator) {
  actor::StateDir state(state_dir);
  if (!state.initialised()) {
    if (options.device_id.empty())
      throw Error(Reason::config_invalid, state_dir + ": the device has no identity yet; give --id");
    if (options.weak_csr_key)
      narrator.say("misbehaves: makes an RSA-1024 key for its CSR");
    init_device({state_dir, options.device_id, options.backend,
                 options.weak_csr_key ? "rsa-1024" : options.key_type},
                narrator);
  }
  if (std::filesystem::exists(state.path("certificate.pem")))
    return;
  if (!options.enrolment)
    throw Error(Reason::config_invalid,
                state_dir + ": the device has no certificate yet; give --est-url, --est-secret "
                            "and --est-fingerprint to enrol");
  enroll_device(state_dir, *options.enrolment, narrator);
}

// Session: one connection's life, answering the hub as Azure's devices do.
class Session {
public:
  Session(HubClient &client, Narrator &narrator) : client_(client), narrator_(narrator) {
    client_.on_publish([this](const mqtt::Publish &publish) { handle(publish); });
  }

  void start() {
    std::string id = client_.device_id();
    for (const auto &filter : {"devices/" + id + "/messages/devicebound/#",
                               std::string("$iothub/methods/POST/#"),
                               std::string("$iothub/twin/res/#"),
                               std::string("$iothub/twin/PATCH/properties/desired/#")})
      client_.subscribe(filter);
    client_.publish("$iothub/twin/GET/?$rid=" + std::to_string(next_rid_++), "");
  }

private:
  void handle(const mqtt::Publish &publish) {
    const std::string &topic = publish.topic;
    if (starts_with(topic, "$iothub/methods/POST/")) {
      auto name = topic.substr(21, topic.find('/', 21) - 21);
      std::string rid = mqtt::topic_query_value(topic, "$rid");
      narrator_.say("<- hub: direct method " + name + " (rid " + rid + ")");
      client_.publish("$iothub/methods/res/200/?$rid=" + rid,
                      json{{"method", name}, {"answered", true}}.dump());
    } else if (starts_with(topic, "$iothub/twin/res/")) {
      auto document = json::parse(publish.payload, nullptr, false);
      if (document.is_object() && document.contains("desired"))
        apply_desired(document["desired"]);
    } else if (starts_with(topic, "$iothub/twin/PATCH/properties/desired/")) {
      apply_desired(json::parse(publish.payload, nullptr, false));
    } else {
      narrator_.say("<- hub: cloud-to-device message: " + publish.payload);
    }
  }

  void apply_desired(const json &desired) {
    if (!desired.is_object())
      return;
    json applied = json::object();
    for (const auto &[key, value] : desired.items())
      if (key.empty() || key[0] != '$')
        applied[key] = value;
    narrator_.say("applies desired properties " + applied.dump());
    client_.publish("$iothub/twin/PATCH/properties/reported/?$rid=" + std::to_string(next_rid_++),
                    json{{"applied", applied}, {"firmware", "chainlab-device"}}.dump());
  }

  HubClient &client_;
  Narrator &narrator_;
  unsigned next_rid_ = 1;
};

// stay_connected runs one connection until |stop_at|; throws when it drops.
void stay_connected(HubClient &client, const DeviceRunOptions &options, Clock::time_point stop_at,
                    Narrator &narrator) {
  Session session(client, narrator);
  session.start();
  for (unsigned sequence = 1; Clock::now() < stop_at; ++sequence) {
    client.send_telemetry(
        json{{"deviceId", client.device_id()}, {"sequence", sequence}}.dump());
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_at - Clock::now());
    client.serve(std::min(options.telemetry_every, std::max(left, std::chrono::milliseconds(0))));
  }
}

} // namespace

std::chrono::milliseconds next_delay(const Backoff &backoff, unsigned attempt, double jitter) {
  auto delay = backoff.first;
  for (unsigned i = 0; i < attempt && delay < backoff.ceiling; ++i)
    delay *= 2;
  delay = std::min(delay, backoff.ceiling);
  return std::chrono::milliseconds(long(double(delay.count()) * (0.5 + 0.5 * jitter)));
}

void parse_est_url(const std::string &url, est::Endpoint &endpoint) {
  auto bad = [&](const std::string &why) {
    return Error(Reason::config_invalid, "EST URL \"" + url + "\": " + why);
  };
  const std::string scheme = "https://";
  if (!starts_with(url, scheme))
    throw bad("expected https://HOST:PORT/.well-known/est");
  auto authority_end = url.find('/', scheme.size());
  std::string authority = url.substr(scheme.size(), authority_end - scheme.size());
  std::string path = authority_end == std::string::npos ? "" : url.substr(authority_end);
  if (!path.empty() && path != "/" && path != "/.well-known/est" && path != "/.well-known/est/")
    throw bad("the path must be /.well-known/est");
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw bad("expected HOST:PORT");
  std::string port = authority.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535)
    throw bad("the port must be 1 to 65535");
  endpoint.host = authority.substr(0, colon);
  endpoint.port = std::uint16_t(std::stoul(port));
}

void run_device(const std::string &state_dir, const DeviceRunOptions &options, Narrator &narrator) {
  provision(state_dir, options, narrator);
  auto stop_at = options.run_for.count() > 0 ? Clock::now() + options.run_for
                                              : Clock::time_point::max();
  std::mt19937 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  unsigned attempt = 0;
  if (options.no_backoff)
    narrator.say("misbehaves: reconnects at once, without backoff");
  while (Clock::now() < stop_at) {
    auto started = Clock::now();
    try {
      HubClient client(state_dir, options.hub, narrator, options.misbehaviour);
      client.connect();
      stay_connected(client, options, stop_at, narrator);
      client.disconnect();
      return;
    } catch (const Error &error) {
      narrator.refuse(std::string(to_string(error.reason())), error.detail());
    }
    if (Clock::now() - started >= options.backoff.stable)
      attempt = 0;
    auto delay = options.no_backoff ? std::chrono::milliseconds(0)
                                    : next_delay(options.backoff, attempt++, jitter(random));
    narrator.say("reconnects in " + std::to_string(delay.count()) + " ms");
    auto left = stop_at - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(delay, std::max<Clock::duration>(left, {})));
  }
}

} // namespace chainlab::device
