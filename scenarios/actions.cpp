#include "scenarios/actions.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "registry/issuance_log.hpp"
#include "scenarios/forgery.hpp"

namespace chainlab::scenario {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The whole conformance suite takes about 10 s, 95 s at most for a device
// that fails a check of the main session.
constexpr std::chrono::milliseconds kSuiteTime = std::chrono::seconds(240);

// ---- actor commands: run the actor's executable, judge its exit ----

// run_actor_step runs |command| as the step's actor and judges its exit
// status and stated reason against the step's expectation.
void run_actor_step(RunContext &run, StepCall &call, const std::vector<std::string> &command) {
  const StepSpec &step = call.spec;
  std::optional<long> clock_offset;
  if (step.args.contains("clock_offset_seconds"))
    clock_offset = step.args.value("clock_offset_seconds", 0L);
  auto outcome = run.actor_command(call.actor, command, clock_offset);
  run.out() << outcome.out;
  bool refused = outcome.exit_code != 0;
  run.mark_last_interaction(call.actor.spec->id, refused, outcome.out + outcome.err);
  std::string stated = refused ? trimmed(tail(outcome.err, 3)) : "it succeeded";
  const Expectation &expect = step.expect;
  StepResult &result = call.result;
  if (outcome.timed_out) {
    result.message = step.name + " did not finish within " +
                     std::to_string(run.step_timeout().count() / 1000) + " s";
  } else if (expect.outcome == "success" && refused) {
    result.message = "expected success, but it was refused: " + stated;
  } else if (expect.outcome == "refused" && !refused) {
    result.message = "expected a refusal (" + expect.reason + "), but it succeeded";
  } else if (refused && outcome.err.find("error (" + expect.reason + ")") == std::string::npos) {
    result.message = "expected refusal reason " + expect.reason + ", got: " + stated;
  } else if (!expect.output_contains.empty() &&
             (outcome.out + outcome.err).find(expect.output_contains) == std::string::npos) {
    result.message = "the output does not contain \"" + expect.output_contains + "\"";
  } else {
    result.passed = true;
    result.message = refused ? "refused as expected: " + stated : step.name + " succeeded as expected";
  }
  if (!result.passed)
    result.output_tail = tail(outcome.out + outcome.err, 12) +
                         (call.hub ? run.server_log_tail(call.hub->spec->id) : "");
}

void register_ca(RunContext &run, StepCall &call) {
  ActorState &hub = run.need_hub(call);
  run.interact(call.actor.spec->id, hub.spec->id, "register CA: upload, verification code, proof", false,
               "Verified: possession of the CA key proved");
  run_actor_step(run, call,
                 {"register-ca", "--hub", call.hub_name, "--hub-port", std::to_string(hub.api_port),
                  "--hub-fingerprint", hub.fingerprint, "--token-file",
                  hub.dir + "/hubs/" + call.hub_name + ".token"});
}

// connect and send: MQTT over mutual TLS to the hub, or to an impostor.
void connect(RunContext &run, StepCall &call) {
  const StepSpec &step = call.spec;
  ActorState &hub = run.need_hub(call);
  std::string port = run.mqtt_port(call);
  std::string target = hub.spec->id;
  if (step.args.contains("impostor")) { // another server poses as the hub
    ActorState &impostor = run.actor(run.arg(step, "impostor"));
    port = std::to_string(impostor.est_port);
    target = impostor.spec->id;
  }
  const std::string &action = step.action;
  std::vector<std::string> command = {action, "--hub-port", port, "--hub-fingerprint", hub.fingerprint};
  for (const auto &[key, flag] : {std::pair{"omit_intermediates", "--omit-intermediates"},
                                  std::pair{"allow_weak_crypto", "--allow-weak-crypto"},
                                  std::pair{"impersonate", "--impersonate"}})
    if (step.args.value(key, false))
      command.push_back(flag);
  for (const auto &[key, option] : {std::pair{"client_id", "--client-id"},
                                    std::pair{"publish_as", "--publish-as"}})
    if (step.args.contains(key))
      command.insert(command.end(), {option, run.arg(step, key)});
  if (action == "send")
    command.insert(command.end(), {"--message", step.args.value("message", "{}")});
  if (action == "send" && step.args.contains("receive_seconds"))
    command.insert(command.end(),
                   {"--receive-seconds", std::to_string(step.args.value("receive_seconds", 0))});
  run.interact(call.actor.spec->id, target,
               action == "send" ? "MQTT over mutual TLS: CONNECT, PUBLISH telemetry"
                                : "MQTT over mutual TLS: CONNECT",
               false, action == "send" ? "CONNACK 0, PUBACK: accepted, telemetry stored" : "CONNACK 0: accepted");
  run_actor_step(run, call, command);
}

// enroll is the misbehaving enrolment: with no secret ("none") or one
// already used by another actor ("used-by:<actor id>").
void enroll(RunContext &run, StepCall &call) {
  const StepSpec &step = call.spec;
  ActorState &parent = run.actor(call.actor.spec->parent);
  std::vector<std::string> command = {"enroll", "--ca-port", std::to_string(parent.est_port),
                                      "--ca-fingerprint", parent.fingerprint, "--ca-name",
                                      parent.spec->name};
  std::string secret = step.args.value("secret", "none");
  if (secret.rfind("used-by:", 0) == 0) {
    auto used = run.secrets.find(secret.substr(8));
    if (used == run.secrets.end())
      run.invalid(step, "/args/secret", "no secret was used by " + secret.substr(8));
    command.insert(command.end(), {"--secret", used->second});
  } else if (secret != "none") {
    run.invalid(step, "/args/secret", "expected \"none\" or \"used-by:<actor>\"");
  }
  run.interact(call.actor.spec->id, parent.spec->id, "EST simpleenroll (" + secret + ")", false,
               "certificate issued");
  run_actor_step(run, call, command);
}

void reenroll(RunContext &run, StepCall &call) {
  run.interact(call.actor.spec->id, call.actor.spec->parent, "EST simplereenroll (current certificate)",
               false, "new certificate issued");
  run_actor_step(run, call, {"reenroll"});
}

// list, show: the actor's own command of that name.
void own_command(RunContext &run, StepCall &call) { run_actor_step(run, call, {call.spec.action}); }

// ---- misbehaviour the runner performs itself ----

void forge(RunContext &run, StepCall &call) {
  std::string signer = run.arg(call.spec, "signer");
  std::string signer_dir = signer == "self" ? "" : run.actor(signer).dir;
  call.result.message =
      forge_certificate({call.actor.dir, call.actor.spec->name, signer_dir, call.spec.args});
  call.result.passed = true;
  if (signer != "self")
    run.interact(call.actor.spec->id, signer, "forges a certificate signed with its key", false);
}

// copy_identity: "take a file from another actor", its key file and certificates.
void copy_identity(RunContext &run, StepCall &call) {
  ActorState &actor = call.actor;
  ActorState &source = run.actor(run.arg(call.spec, "from"));
  bool with_key = !call.spec.args.value("without_key", false);
  for (const auto *file : {"keys/identity-key.key.pem", "certificate.pem", "intermediates.pem",
                           "root.pem", "fullchain.pem"}) {
    if (!with_key && std::string(file).rfind("keys/", 0) == 0)
      continue; // a copied certificate, but the key stayed in its token
    std::filesystem::create_directories(std::filesystem::path(actor.dir + "/" + file).parent_path());
    std::filesystem::copy_file(source.dir + "/" + file, actor.dir + "/" + file,
                               std::filesystem::copy_options::overwrite_existing);
  }
  run.interact(actor.spec->id, source.spec->id,
               with_key ? "copies its key and certificates (a leak)" : "copies its certificates", false);
  call.result.passed = true;
  call.result.message = actor.spec->id + " now holds " + source.spec->id +
                        (with_key ? "'s key and certificates" : "'s certificates (not its key)");
}

// hold_connection: the device connects and stays connected in the background.
void hold_connection(RunContext &run, StepCall &call) {
  ActorState &actor = call.actor;
  ActorState &hub = run.need_hub(call);
  std::string log = actor.dir + ".held.log";
  run.held.push_back(std::make_unique<BackgroundProcess>(
      std::vector<std::string>{run.bin("device"), "--state", actor.dir, "send", "--hub-port",
                               run.mqtt_port(call), "--hub-fingerprint", hub.fingerprint, "--message",
                               "{}", "--receive-seconds",
                               std::to_string(call.spec.args.value("seconds", 10))},
      RunContext::environment(*actor.spec), log));
  // Connected once the hub has acknowledged its telemetry.
  auto deadline = Clock::now() + run.step_timeout();
  while (Clock::now() < deadline && pki::read_file(log).find("acknowledged") == std::string::npos &&
         !interrupted())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  call.result.passed = pki::read_file(log).find("acknowledged") != std::string::npos;
  run.out() << pki::read_file(log);
  run.interact(actor.spec->id, hub.spec->id, "MQTT CONNECT, stays connected", false,
               "CONNACK 0, PUBACK: connected");
  run.mark_last_interaction(actor.spec->id, !call.result.passed, pki::read_file(log));
  call.result.message = call.result.passed ? actor.spec->id + " is connected and stays connected"
                                           : actor.spec->id + " could not connect";
}

// conformance: the conformance suite against a device profile (a path
// relative to the scenario file, or absolute); the step passes when exactly
// the checks listed in `failing` fail (none by default).
void conformance(RunContext &run, StepCall &call) {
  const StepSpec &step = call.spec;
  std::filesystem::path profile = run.arg(step, "profile");
  if (profile.is_relative())
    profile = std::filesystem::absolute(run.scenario_file()).parent_path() / profile;
  if (!run.options().allow_device_commands)
    run.invalid(step, "/args/profile",
                "this step would run the device command of " + profile.string() +
                    "; scenario run --allow-device-commands allows that");
  std::string report = call.actor.dir + ".conformance.json";
  std::vector<std::string> argv = {run.bin("scenario"), "conformance", "--device", profile.string(),
                                   "--json", report};
  auto strings = [&](const char *key) {
    std::set<std::string> out;
    const json &list = step.args.value(key, json::array());
    if (!list.is_array())
      run.invalid(step, std::string("/args/") + key, "expected an array of check IDs");
    for (const auto &id : list) {
      if (!id.is_string())
        run.invalid(step, std::string("/args/") + key, "expected an array of check IDs");
      out.insert(id.get<std::string>());
    }
    return out;
  };
  for (const auto &id : strings("only"))
    argv.insert(argv.end(), {"--only", id});
  std::set<std::string> expected = strings("failing");
  run.interact(call.actor.spec->id, call.actor.spec->id, "conformance suite", false);
  auto outcome = run_command(argv, {}, std::max<std::chrono::milliseconds>(run.step_timeout(), kSuiteTime));
  run.out() << outcome.out << outcome.err;
  auto verdict = json::parse(std::filesystem::exists(report) ? pki::read_file(report) : "", nullptr, false);
  if (!verdict.is_object() || !verdict.contains("checks") || !verdict["checks"].is_array()) {
    call.result.message = "the conformance suite exited " + std::to_string(outcome.exit_code) +
                          " without a report" + (outcome.timed_out ? " (timed out)" : "");
    call.result.output_tail = tail(outcome.out + outcome.err, 12);
    return;
  }
  std::set<std::string> failing;
  for (const auto &check : verdict["checks"])
    if (check.value("verdict", "") == "fail")
      failing.insert(check.value("id", ""));
  auto list = [](const std::set<std::string> &ids) {
    std::string out;
    for (const auto &id : ids)
      out += (out.empty() ? "" : ", ") + id;
    return out.empty() ? "none" : out;
  };
  call.result.passed = failing == expected;
  call.result.message = "conformance of " + verdict.value("profile", profile.string()) +
                        ": failing " + list(failing) + (call.result.passed ? ", as expected" :
                        "; expected failing " + list(expected));
  run.mark_last_interaction(call.actor.spec->id, !failing.empty());
}

// ---- the hub's API, as an operator or an attacker calls it ----

HttpResponse hub_api(RunContext &run, StepCall &call, const std::string &method,
                     const std::string &path, const std::string &body = "") {
  return run.hub_api(call.actor, method, path, run.arg(call.spec, "hub"), body);
}

// judge_response: refused means HTTP 4xx/5xx, with the reason the step expects.
void judge_response(StepCall &call, const HttpResponse &response) {
  bool refused = response.status >= 400;
  std::string reason = response.header("X-Chainlab-Reason");
  call.result.passed =
      call.spec.expect.outcome == "refused" ? refused && reason == call.spec.expect.reason : !refused;
  call.result.message = call.spec.action + " answered HTTP " + std::to_string(response.status) +
                        (reason.empty() ? "" : " (" + reason + ")");
}

// settle_api_interaction: an API answer ends the step's interaction; a
// refusal carries the hub's reason and message.
void settle_api_interaction(RunContext &run, StepCall &call, const HttpResponse &response) {
  auto body = json::parse(response.body, nullptr, false);
  std::string message = body.is_object() ? body.value("message", "") : "";
  run.mark_last_interaction(call.actor.spec->id, response.status >= 400,
                            "error (" + response.header("X-Chainlab-Reason") + "): " + message);
}

// upload_ca: the certificate only, with no proof of possession: what an
// owner does first, and all a thief of the (public) certificate can do.
void upload_ca(RunContext &run, StepCall &call) {
  ActorState &ca = run.actor(run.arg(call.spec, "ca"));
  std::string pem = pki::read_file(ca.dir + "/certificate.pem");
  if (call.spec.args.value("with_key", false)) // the mistake the hub must refuse
    pem += pki::read_file(ca.dir + "/keys/identity-key.key.pem");
  auto response = hub_api(run, call, "PUT", "/certificates/" + percent_encode(ca.spec->name),
                          json{{"certificate", pem}}.dump());
  run.interact(call.actor.spec->id, call.actor.spec->id, "upload of " + ca.spec->name + "'s CA certificate",
               false);
  settle_api_interaction(run, call, response);
  judge_response(call, response);
}

// replay_verification: an eavesdropper captured the verification
// certificate the CA sent to some hub, and offers it for its own upload.
void replay_verification(RunContext &run, StepCall &call) {
  ActorState &ca = run.actor(run.arg(call.spec, "ca"));
  registry::IssuanceLog log(ca.dir + "/issuance.db");
  std::string captured;
  for (const auto &record : log.list())
    if (record.profile == "verification")
      captured = record.certificate_pem;
  if (captured.empty())
    run.invalid(call.spec, "", ca.spec->name + " has sent no verification certificate to capture");
  std::string path = "/certificates/" + percent_encode(ca.spec->name);
  hub_api(run, call, "POST", path + "/generateVerificationCode");
  auto response = hub_api(run, call, "POST", path + "/verify", json{{"certificate", captured}}.dump());
  run.interact(call.actor.spec->id, call.actor.spec->id,
               "replayed verification certificate of " + ca.spec->name, false);
  settle_api_interaction(run, call, response);
  judge_response(call, response);
}

// actor_list reads args[key], an array of actor IDs (absent: empty).
std::vector<ActorState *> actor_list(RunContext &run, const StepSpec &step, const std::string &key) {
  std::vector<ActorState *> actors;
  if (!step.args.contains(key))
    return actors;
  const json &list = step.args[key];
  if (!list.is_array())
    run.invalid(step, "/args/" + key, "expected an array of actor IDs");
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string())
      run.invalid(step, "/args/" + key + "/" + std::to_string(i), "expected an actor ID");
    actors.push_back(&run.actor(list[i].get<std::string>()));
  }
  return actors;
}

std::string log_url(const ActorState &ca) { return "https://127.0.0.1:" + std::to_string(ca.est_port); }

// set_onboarding: args.policy; under "logged", args.logs names the CAs
// whose transparency logs the hub asks (their EST servers and certificates).
void set_onboarding(RunContext &run, StepCall &call) {
  json body = {{"policy", run.arg(call.spec, "policy")}};
  for (ActorState *ca : actor_list(run, call.spec, "logs")) {
    body["logs"].push_back({{"url", log_url(*ca)},
                            {"certificate", pki::read_file(ca->dir + "/certificate.pem")}});
    run.interact(call.hub->spec->id, ca->spec->id, "registers its log for onboarding", false);
  }
  judge_response(call, hub_api(run, call, "POST",
                               "/certificates/" + percent_encode(run.arg(call.spec, "ca")) + "/onboarding",
                               body.dump()));
}

// audit: Company-X checks the hub's devices against the logs of args.logs
// (default: every other CA of the scenario; its own log is always read).
void audit(RunContext &run, StepCall &call) {
  ActorState &hub = run.need_hub(call);
  auto logs = actor_list(run, call.spec, "logs");
  if (!call.spec.args.contains("logs"))
    for (const auto &spec : run.scenario().actors)
      if ((spec.role == "factory" || spec.role == "technician" || spec.role == "company") &&
          spec.id != call.actor.spec->id)
        logs.push_back(&run.actor(spec.id));
  std::vector<std::string> command = {"audit", "--hub", call.hub_name, "--hub-port",
                                      std::to_string(hub.api_port), "--hub-fingerprint",
                                      hub.fingerprint, "--token-file",
                                      hub.dir + "/hubs/" + call.hub_name + ".token"};
  for (ActorState *ca : logs) {
    command.insert(command.end(), {"--log", log_url(*ca) + "@" + ca->fingerprint});
    run.interact(call.actor.spec->id, ca->spec->id, "audit: tree head, entries, proofs", false,
                 "signed tree head, entries, proofs");
  }
  if (call.spec.args.value("json", false))
    command.push_back("--json");
  run.interact(call.actor.spec->id, hub.spec->id, "audit: registered devices and certificates", false,
               "devices and their certificates");
  run_actor_step(run, call, command);
}

// tamper_log: someone with the CA's files edits its log after the fact.
// edit-entry changes a byte of entry args.index's certificate; truncate
// drops entries from args.index on and has the CA key sign the shorter
// tree (an owner rewriting history).
void tamper_log(RunContext &run, StepCall &call) {
  ActorState &ca = call.actor;
  std::string mode = run.arg(call.spec, "mode");
  if (!call.spec.args.contains("index") || !call.spec.args["index"].is_number_unsigned())
    run.invalid(call.spec, "/args/index", "expected the index of a log entry");
  std::int64_t index = call.spec.args["index"].get<std::int64_t>();
  if (mode != "edit-entry" && mode != "truncate")
    run.invalid(call.spec, "/args/mode", "expected edit-entry or truncate");
  call.result.message = rewrite_log(ca.dir, mode == "truncate", index);
  call.result.passed = true;
  run.interact(ca.spec->id, ca.spec->id, "its log database is edited (" + mode + ")", false);
}

void register_device(RunContext &run, StepCall &call) {
  json body = json::object();
  if (call.spec.args.contains("thumbprint_of")) { // one-to-one: that certificate's thumbprint
    ActorState &holder = run.actor(run.arg(call.spec, "thumbprint_of"));
    auto cert = pki::parse_certificate(pki::read_file(holder.dir + "/certificate.pem"), holder.spec->id);
    body["thumbprint"] = pki::sha256_fingerprint(cert.get());
  }
  judge_response(call, hub_api(run, call, "PUT", "/devices/" + percent_encode(run.arg(call.spec, "device")), body.dump()));
}

std::string verb(const std::string &action) { return action.substr(0, action.find('-')); }

// disable-group, enable-group: every device under a CA at once.
void switch_group(RunContext &run, StepCall &call) {
  judge_response(call, hub_api(run, call, "POST",
                               "/devices/" + verb(call.spec.action) +
                                   "?under=" + percent_encode(run.arg(call.spec, "under"))));
}

// disable-ca, enable-ca: one registered CA.
void switch_ca(RunContext &run, StepCall &call) {
  judge_response(call, hub_api(run, call, "POST",
                               "/certificates/" + percent_encode(run.arg(call.spec, "ca")) + "/" + verb(call.spec.action)));
}

// disable-device, enable-device, approve-device: one device.
void switch_device(RunContext &run, StepCall &call) {
  judge_response(call, hub_api(run, call, "POST",
                               "/devices/" + percent_encode(run.arg(call.spec, "device")) + "/" + verb(call.spec.action)));
}

void expect_devices(RunContext &run, StepCall &call) {
  std::string query;
  for (const auto *key : {"issuer", "ca", "under", "status"})
    if (call.spec.args.contains(key))
      query += std::string(query.empty() ? "?" : "&") + key + "=" + percent_encode(run.arg(call.spec, key));
  auto response = hub_api(run, call, "GET", "/devices" + query);
  auto body = json::parse(response.body, nullptr, false);
  long expected = call.spec.args.value("count", -1L);
  long found = body.is_object() ? body.value("count", -1L) : -1L;
  call.result.passed = response.status == 200 && found == expected;
  call.result.message = "hub " + run.arg(call.spec, "hub") + " lists " + std::to_string(found) +
                        " device(s)" + (query.empty() ? "" : " for " + query.substr(1)) +
                        ", expected " + std::to_string(expected);
}

void expect_event(RunContext &run, StepCall &call) {
  std::string reason = run.arg(call.spec, "reason");
  auto body = json::parse(hub_api(run, call, "GET", "/events").body, nullptr, false);
  long count = body.is_object() && body.contains("refusalsByReason") && body["refusalsByReason"].is_object()
                   ? body["refusalsByReason"].value(reason, 0L)
                   : 0L;
  call.result.passed = count > 0;
  call.result.message = "hub " + run.arg(call.spec, "hub") + " counted " + std::to_string(count) + " " +
                        reason + " refusal(s)";
}

constexpr std::string_view kCas[] = {"company", "factory", "technician"};

} // namespace

const std::vector<Action> &actions() {
  static const std::vector<Action> table = {
      {"register-ca", {kCas[0], kCas[1], kCas[2]}, register_ca},
      {"audit", {kCas[0]}, audit},
      {"tamper-log", {kCas[0], kCas[1], kCas[2]}, tamper_log},
      {"list", {kCas[0], kCas[1], kCas[2]}, own_command},
      {"show", {kCas[0], kCas[1], kCas[2], "device"}, own_command},
      {"connect", {"device"}, connect},
      {"send", {"device"}, connect},
      {"enroll", {"device"}, enroll},
      {"reenroll", {"device"}, reenroll},
      {"hold-connection", {"device"}, hold_connection},
      {"forge-certificate", {"device"}, forge},
      {"copy-identity", {"device"}, copy_identity},
      {"conformance", {"device"}, conformance},
      {"upload-ca", {"hub"}, upload_ca},
      {"replay-verification", {"hub"}, replay_verification},
      {"expect-devices", {"hub"}, expect_devices},
      {"expect-event", {"hub"}, expect_event},
      {"disable-device", {"hub"}, switch_device},
      {"enable-device", {"hub"}, switch_device},
      {"approve-device", {"hub"}, switch_device},
      {"disable-ca", {"hub"}, switch_ca},
      {"enable-ca", {"hub"}, switch_ca},
      {"set-onboarding", {"hub"}, set_onboarding},
      {"register-device", {"hub"}, register_device},
      {"disable-group", {"hub"}, switch_group},
      {"enable-group", {"hub"}, switch_group},
  };
  return table;
}

const Action *find_action(std::string_view name, std::string_view role) {
  for (const auto &action : actions())
    if (action.name == name &&
        std::find(action.roles.begin(), action.roles.end(), role) != action.roles.end())
      return &action;
  return nullptr;
}

const std::map<std::string, std::vector<std::string>> &actions_by_role() {
  static const std::map<std::string, std::vector<std::string>> by_role = [] {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto &action : actions())
      for (auto role : action.roles)
        out[std::string(role)].emplace_back(action.name);
    return out;
  }();
  return by_role;
}

} // namespace chainlab::scenario
