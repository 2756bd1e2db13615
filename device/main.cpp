// device: a Smart-X-Widget. Its key is made inside its own token and never
// leaves it; the CA that installs it signs its CSR over EST.
#include <iostream>

#include "core/error.hpp"
#include "ossl/ec_key_decoding.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"

#include "cli/run_main.hpp"
#include "cli/show_identity.hpp"
#include "device/device_actor.hpp"
#include "device/device_loop.hpp"
#include "device/fleet_load.hpp"
#include "device/hub_client.hpp"

using namespace chainlab;

namespace {

// `device --state FLEET fleet issue`: identities for load, through a
// technician CA and its policy.
void add_fleet_issue_command(CLI::App *fleet, std::string &state) {
  static std::string technician, prefix = "fleet-";
  static std::size_t count = 1000;
  auto *issue = fleet->add_subcommand("issue", "issue identities through a technician CA");
  issue->add_option("--technician-state", technician, "the technician CA's state directory")
      ->required();
  issue->add_option("--count", count, "identities the fleet should hold")->capture_default_str();
  issue->add_option("--prefix", prefix, "device ID prefix")->capture_default_str();
  issue->callback([&] {
    auto added = device::issue_fleet(state, technician, count, prefix, std::cout);
    std::cout << "fleet: " << added << " identities added" << std::endl;
  });
}

// `device --state FLEET fleet run`: the load, and its report.
void add_fleet_run_command(CLI::App *fleet, std::string &state) {
  static device::FleetTarget target;
  static device::LoadOptions options;
  static std::string mode = "connect-rate";
  static long seconds = 20, report_seconds = 5;
  static int server_pid = 0;
  static bool json = false;
  auto *run = fleet->add_subcommand("run", "load a server with the fleet and report");
  run->footer("Exit status: 0 when anything succeeded (failures are reported by reason); 1 "
              "when no connect, held device or acknowledged message did; other than 0 for "
              "bad options, a missing fleet or a --server-pid that names no process.");
  run->add_option("--mode", mode, "connect-rate, hold or telemetry")
      ->check(CLI::IsMember({"connect-rate", "hold", "telemetry"}))
      ->capture_default_str();
  run->add_option("--port", target.port, "the server's MQTT/TLS port")->required();
  run->add_option("--ca-fingerprint", target.pinned_fingerprint,
                  "SHA-256 fingerprint of the server's CA (pinned)")
      ->required();
  run->add_option("--host", target.host, "server address")->capture_default_str();
  run->add_option("--server-name", target.server_name, "TLS server name")->capture_default_str();
  run->add_option("--in-flight", options.in_flight, "connections being set up at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  run->add_option("--seconds", seconds, "measured seconds")->check(CLI::Range(1, 86400))
      ->capture_default_str();
  run->add_option("--devices", options.devices, "hold/telemetry: devices (0 = whole fleet)");
  run->add_option("--rate", options.rate, "telemetry: messages per second per device")
      ->check(CLI::Range(0.001, 10000.0))
      ->capture_default_str();
  run->add_option("--payload-bytes", options.payload_bytes, "telemetry payload size")
      ->check(CLI::Range(0, 256 * 1024))
      ->capture_default_str();
  run->add_option("--keep-alive", options.keep_alive, "MQTT keep-alive seconds")
      ->capture_default_str();
  run->add_option("--report-every", report_seconds, "seconds between progress lines")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  run->add_option("--server-pid", server_pid, "report this process's CPU and memory");
  run->add_flag("--json", json, "print the report as one JSON object");
  run->callback([&] {
    // The load generator's own handshakes: as cheap as the hub's, so that
    // it measures the server rather than itself.
    if (auto why = ossl::use_builtin_ec_key_decoding(); !why.empty())
      std::cerr << "fleet: certificate keys decode through OpenSSL's providers (" << why << ")\n";
    options.mode = mode == "hold"        ? device::LoadMode::hold
                   : mode == "telemetry" ? device::LoadMode::telemetry
                                         : device::LoadMode::connect_rate;
    options.duration = std::chrono::seconds(seconds);
    options.report_every = std::chrono::seconds(report_seconds);
    if (server_pid < 0)
      throw Error(Reason::config_invalid,
                  "--server-pid " + std::to_string(server_pid) + ": not a process id");
    if (server_pid > 0) {
      if (!device::sample_process(server_pid))
        throw Error(Reason::config_invalid,
                    "--server-pid " + std::to_string(server_pid) + ": no such process (/proc/" +
                        std::to_string(server_pid) + "/stat is not readable)");
      options.server_pid = server_pid;
    }
    auto loaded = device::load_fleet(state, options.mode == device::LoadMode::connect_rate
                                                ? 0
                                                : options.devices);
    auto report = device::run_load(loaded, target, options, std::cerr);
    if (json)
      std::cout << device::report_json(report) << std::endl;
    else
      device::print_report(report, std::cout);
    if (auto failed = device::nothing_succeeded(report))
      throw *failed;
  });
}

void add_fleet_commands(CLI::App &app, std::string &state) {
  auto *fleet = app.add_subcommand("fleet", "a load generator over many device identities");
  fleet->require_subcommand(1);
  add_fleet_issue_command(fleet, state);
  add_fleet_run_command(fleet, state);
}

// `device --state DIR run`: the long-lived device (and the conformance
// suite's reference device under test).
void add_run_command(CLI::App &app, std::string &state) {
  static device::DeviceRunOptions options;
  static std::string est_url, est_secret, est_fingerprint, hub_ca;
  static double telemetry_seconds = 5, run_seconds = 0;
  auto *run = app.add_subcommand("run", "stay connected: telemetry, methods, twin, reconnects");
  run->add_option("--id", options.device_id, "first boot: device ID (the certificate's CN)");
  run->add_option("--backend", options.backend, "first boot: pkcs11 or file")
      ->check(CLI::IsMember({"pkcs11", "file"}))
      ->capture_default_str();
  run->add_option("--key-type", options.key_type, "first boot: ec-p256, ec-p384, rsa-2048, rsa-3072")
      ->check(CLI::IsMember({"ec-p256", "ec-p384", "rsa-2048", "rsa-3072"}))
      ->capture_default_str();
  run->add_option("--est-url", est_url, "first boot: https://HOST:PORT/.well-known/est");
  run->add_option("--est-secret", est_secret, "first boot: one-time enrolment secret");
  run->add_option("--est-fingerprint", est_fingerprint, "first boot: the CA's SHA-256 fingerprint");
  run->add_option("--hub-port", options.hub.port, "the hub's MQTT port")->required();
  run->add_option("--hub-host", options.hub.host, "hub host name")->capture_default_str();
  auto *pin = run->add_option("--hub-fingerprint", options.hub.pinned_fingerprint,
                              "SHA-256 fingerprint of the hub's CA (pinned)");
  run->add_option("--hub-ca", hub_ca, "PEM file of the hub's CA (pinned)")->excludes(pin);
  run->add_option("--keep-alive", options.hub.keep_alive, "MQTT keep-alive seconds")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  run->add_option("--telemetry-seconds", telemetry_seconds, "seconds between telemetry messages")
      ->check(CLI::Range(0.05, 86400.0))
      ->capture_default_str();
  run->add_option("--run-seconds", run_seconds, "stop after this long (0: until SIGTERM)")
      ->check(CLI::Range(0.0, 31536000.0));
  auto *broken = "Misbehaviour (the conformance suite's broken reference devices)";
  run->add_flag("--skip-hub-verification", options.misbehaviour.skip_hub_verification,
                "trust any hub certificate")->group(broken);
  run->add_flag("--skip-host-check", options.misbehaviour.skip_host_check,
                "accept a hub certificate for another host name")->group(broken);
  run->add_flag("--no-backoff", options.no_backoff, "reconnect at once, forever")->group(broken);
  run->add_flag("--omit-intermediates", options.misbehaviour.omit_intermediates,
                "present the certificate without its chain")->group(broken);
  run->add_option("--client-id", options.misbehaviour.client_id, "claim another client ID")
      ->group(broken);
  run->add_flag("--weak-csr-key", options.weak_csr_key, "first boot: an RSA-1024 key in the CSR")
      ->group(broken);
  run->callback([&] {
    if (!hub_ca.empty())
      options.hub.pinned_fingerprint = pki::sha256_fingerprint(
          pki::parse_certificate(pki::read_file(hub_ca), hub_ca).get());
    if (options.hub.pinned_fingerprint.empty())
      throw Error(Reason::config_invalid, "device run: give --hub-ca or --hub-fingerprint");
    if (!est_url.empty()) {
      actor::EnrolmentRequest request;
      device::parse_est_url(est_url, request.parent);
      request.parent.pinned_fingerprint = est_fingerprint;
      request.secret = est_secret;
      options.enrolment = request;
    }
    options.telemetry_every = std::chrono::milliseconds(long(telemetry_seconds * 1000));
    options.run_for = std::chrono::milliseconds(long(run_seconds * 1000));
    Narrator narrator(options.device_id.empty() ? "device" : options.device_id, std::cout);
    device::run_device(state, options, narrator);
  });
}

// `device --state DIR init`: the device key, made inside its own token.
void add_init_command(CLI::App &app, std::string &state) {
  static device::DeviceOptions options;
  auto *init = app.add_subcommand("init", "create the device key inside its own token");
  init->add_option("--id", options.device_id, "device ID (the certificate's CN)")->required();
  init->add_option("--backend", options.backend, "pkcs11 or file")
      ->check(CLI::IsMember({"pkcs11", "file"}))
      ->capture_default_str();
  init->add_option("--key-type", options.key_type, "ec-p256, ec-p384, rsa-2048, rsa-3072")
      ->check(CLI::IsMember({"ec-p256", "ec-p384", "rsa-2048", "rsa-3072"}))
      ->capture_default_str();
  init->callback([&] {
    options.state_dir = state;
    Narrator narrator(options.device_id, std::cout);
    device::init_device(options, narrator);
  });
}

// `device --state DIR enroll`: a certificate from a CA over EST.
void add_enroll_command(CLI::App &app, std::string &state) {
  static actor::EnrolmentRequest request;
  auto *enroll = app.add_subcommand("enroll", "enrol at a CA over EST with a one-time secret");
  enroll->add_option("--ca-port", request.parent.port, "the CA's EST port")->required();
  enroll->add_option("--ca-fingerprint", request.parent.pinned_fingerprint,
                     "SHA-256 fingerprint of the CA certificate (pinned)")
      ->required();
  enroll->add_option("--secret", request.secret, "one-time enrolment secret");
  enroll->add_option("--ca-host", request.parent.host, "EST host")->capture_default_str();
  enroll->add_option("--ca-name", request.parent_name, "the CA's name, for narration");
  enroll->callback([&] {
    Narrator narrator(actor::StateDir(state).load_config().name, std::cout);
    device::enroll_device(state, request, narrator);
  });
}

// The hub options `connect` and `send` share, with the misbehaviours of
// the training and attack scenarios.
struct HubCommandOptions {
  device::HubEndpoint hub;
  device::Misbehaviour misbehaviour;
};

void add_hub_options(CLI::App *command, HubCommandOptions &options) {
  command->add_option("--hub-port", options.hub.port, "the hub's MQTT port")->required();
  command->add_option("--hub-fingerprint", options.hub.pinned_fingerprint,
                      "SHA-256 fingerprint of the hub's service CA (pinned)")
      ->required();
  command->add_option("--hub-host", options.hub.host, "hub host name")->capture_default_str();
  auto &misbehaviour = options.misbehaviour;
  auto *attacks = "Misbehaviour (training and attack scenarios)";
  command->add_flag("--omit-intermediates", misbehaviour.omit_intermediates,
                    "present the certificate without its chain")
      ->group(attacks);
  command->add_option("--client-id", misbehaviour.client_id, "claim another client ID")
      ->group(attacks);
  command->add_option("--publish-as", misbehaviour.publish_as,
                      "publish on another device's telemetry topic")
      ->group(attacks);
  command->add_flag("--impersonate", misbehaviour.impersonate,
                    "present the (copied) certificate but sign with this device's own key")
      ->group(attacks);
  command->add_flag("--allow-weak-crypto", misbehaviour.allow_weak_crypto,
                    "present a weak key or SHA-1 certificate anyway")
      ->group(attacks);
}

// `device --state DIR connect|send`: one connection to the hub.
void add_hub_commands(CLI::App &app, std::string &state) {
  static HubCommandOptions options;
  static std::vector<std::string> messages;
  static double receive_seconds = 0;
  static std::size_t receive_count = 1;
  auto *connect = app.add_subcommand("connect", "connect to the hub (TLS client auth), then leave");
  add_hub_options(connect, options);
  connect->callback([&] {
    Narrator narrator(actor::StateDir(state).load_config().name, std::cout);
    device::HubClient client(state, options.hub, narrator, options.misbehaviour);
    client.connect();
    client.disconnect();
  });
  auto *send = app.add_subcommand("send", "connect, send telemetry, optionally wait for messages");
  add_hub_options(send, options);
  send->add_option("--message", messages, "telemetry payload (repeatable)")->required();
  send->add_option("--receive-seconds", receive_seconds,
                   "then wait this long for cloud-to-device messages");
  send->add_option("--receive-count", receive_count, "stop waiting after this many messages")
      ->capture_default_str();
  send->callback([&] {
    Narrator narrator(actor::StateDir(state).load_config().name, std::cout);
    device::HubClient client(state, options.hub, narrator, options.misbehaviour);
    client.connect();
    if (receive_seconds > 0)
      client.subscribe_cloud_to_device();
    for (const auto &message : messages)
      client.send_telemetry(message);
    if (receive_seconds > 0)
      client.receive(std::chrono::milliseconds(long(receive_seconds * 1000)), receive_count);
    client.disconnect();
  });
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app("Smart-X-Widget device", "device");
  std::string state;
  app.add_option("--state", state, "this device's state directory")->required();
  app.fallthrough();

  add_init_command(app, state);
  add_enroll_command(app, state);
  add_hub_commands(app, state);
  add_fleet_commands(app, state);
  add_run_command(app, state);

  app.add_subcommand("show", "print the device identity, chain and key location")
      ->callback([&] { cli::show_identity(state, std::cout); });
  app.add_subcommand("reenroll", "renew the certificate with the current one")->callback([&] {
    Narrator narrator(actor::StateDir(state).load_config().name, std::cout);
    actor::reenrol(actor::StateDir(state), narrator);
  });
  return cli::run_main(app, argc, argv, "device");
}
