#include "scenarios/runner.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/http_message.hpp"
#include "net/https_client.hpp"
#include "net/tls_context.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "registry/issuance_log.hpp"
#include "scenarios/forgery.hpp"
#include "scenarios/process.hpp"

namespace chainlab::scenario {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string tail(const std::string &text, size_t lines) {
  size_t at = text.size();
  for (size_t seen = 0; at > 0 && seen <= lines; --at)
    if (text[at - 1] == '\n' && ++seen > lines)
      break;
  return text.substr(at);
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

std::string percent_encode(const std::string &text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_')
      out += char(c);
    else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
  }
  return out;
}

struct ActorState {
  const ActorSpec *spec = nullptr;
  std::string dir;
  std::uint16_t est_port = 0;
  std::string fingerprint; // a CA's certificate, or a hub's service CA
  std::unique_ptr<BackgroundProcess> server;
  size_t log_offset = 0;
  std::uint16_t api_port = 0; // hub only
};

class Run {
public:
  Run(const Scenario &scenario, const RunOptions &options, std::ostream &transcript)
      : scenario_(scenario), options_(options), out_(transcript) {}

  RunResult execute() {
    result_.scenario = scenario_.name;
    result_.file = scenario_.file;
    make_work_dir();
    out_ << "\n\033[1m### scenario " << scenario_.name << "\033[0m: " << scenario_.description
         << "\n    (working directory " << work_dir_ << ")\n";
    bool ok = true;
    for (const auto &actor : scenario_.actors) {
      if (!ok || interrupted())
        break;
      ok = record(set_up(actor));
    }
    for (size_t i = 0; ok && i < scenario_.steps.size() && !interrupted(); ++i)
      record(run_step(scenario_.steps[i], i));
    held_.clear(); // stops held connections first
    for (auto &[id, state] : actors_)
      if (state.server)
        state.server->stop();
    flush_server_logs();
    result_.interrupted = interrupted();
    if (!options_.keep)
      std::filesystem::remove_all(work_dir_);
    else
      out_ << "    kept the working directory: " << work_dir_ << "\n";
    return std::move(result_);
  }

private:
  // ---- plumbing ----
  void make_work_dir() {
    work_dir_ = result_.work_dir = make_private_dir("chainlab-scenario-" + scenario_.name);
  }


  std::string bin(const std::string &role) const { return options_.bin_dir + "/" + role; }
  std::chrono::milliseconds step_timeout() const {
    return std::chrono::seconds(scenario_.timeout_seconds);
  }

  static Environment environment(const ActorSpec &spec) {
    if (spec.clock_offset_seconds == 0)
      return {};
    return {{"CHAINLAB_CLOCK_OFFSET_SECONDS", std::to_string(spec.clock_offset_seconds)}};
  }

  CommandResult actor_command(const ActorState &actor, std::vector<std::string> args,
                              std::optional<long> clock_offset = std::nullopt) {
    args.insert(args.begin(), {bin(actor.spec->role), "--state", actor.dir});
    Environment env = environment(*actor.spec);
    if (clock_offset) // a step may run at another time than its actor
      env["CHAINLAB_CLOCK_OFFSET_SECONDS"] = std::to_string(*clock_offset);
    return run_command(args, env, step_timeout());
  }

  bool wait_for_file(const std::string &path) {
    auto deadline = Clock::now() + step_timeout();
    while (Clock::now() < deadline && !interrupted()) {
      if (std::filesystem::exists(path) && std::filesystem::file_size(path) > 0)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::uint16_t read_port(const std::string &path) {
    return std::uint16_t(std::stoi(pki::read_file(path)));
  }

  bool record(StepResult step) {
    flush_server_logs();
    out_ << (step.passed ? "  \u2713 " : "  \u2717 FAILED: ") << step.message << "\n";
    if (!step.passed && !step.output_tail.empty())
      out_ << "    last output of " << step.actor << ":\n" << step.output_tail << "\n";
    bool passed = step.passed;
    result_.steps.push_back(std::move(step));
    return passed;
  }

  // flush_server_logs prints what the servers narrated since last time.
  void flush_server_logs() {
    for (auto &[id, state] : actors_) {
      if (!state.server)
        continue;
      std::string log = pki::read_file(state.server->log_file());
      if (log.size() > state.log_offset)
        out_ << log.substr(state.log_offset);
      state.log_offset = log.size();
    }
  }

  std::string server_log_tail(const std::string &actor_id) {
    auto found = actors_.find(actor_id);
    if (found == actors_.end() || !found->second.server)
      return "";
    return tail(pki::read_file(found->second.server->log_file()), 8);
  }

  void interact(const std::string &from, const std::string &to, const std::string &what,
                bool refused) {
    result_.interactions.push_back({from, to, what, refused});
  }

  const std::string &display(const std::string &actor_id) {
    return actors_.at(actor_id).spec->name;
  }

  // ---- set-up: every actor through its own executable ----
  StepResult set_up(const ActorSpec &spec) {
    out_ << "\n\033[1m== set-up: " << spec.id << " (" << spec.role << ")\033[0m\n";
    auto started = Clock::now();
    ActorState &state = actors_[spec.id];
    state.spec = &spec;
    state.dir = work_dir_ + "/" + spec.id;
    StepResult step{"set-up " + spec.id, spec.id, "set-up", false, "", "", {}};
    try {
      std::string failure = spec.role == "hub" ? set_up_hub(state) : set_up_enrolled(state);
      bool want_refusal = spec.expect.outcome == "refused";
      std::string marker = "error (" + spec.expect.reason + ")";
      if (want_refusal) {
        step.passed = failure.find(marker) != std::string::npos;
        step.message = step.passed ? "set-up refused as expected: " + failure
                                   : "expected set-up to be refused with " + spec.expect.reason +
                                         ", got: " + (failure.empty() ? "success" : failure);
      } else {
        step.passed = failure.empty();
        step.message = step.passed ? spec.name + " is ready" : failure;
      }
      if (!result_.interactions.empty() && result_.interactions.back().from == spec.id)
        result_.interactions.back().refused = !failure.empty();
    } catch (const Error &error) {
      step.message = error.what();
    }
    step.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return step;
  }

  // run_and_show runs an actor command, prints its narration, and returns
  // "" or what went wrong.
  std::string run_and_show(const ActorState &actor, const std::vector<std::string> &args,
                           std::string *out_stdout = nullptr) {
    auto result = actor_command(actor, args);
    if (!out_stdout)
      out_ << result.out;
    else
      *out_stdout = result.out;
    if (result.exit_code == 0)
      return "";
    return "`" + actor.spec->role + " " + (args.empty() ? "" : args[0]) + "` failed" +
           (result.timed_out ? " (timed out)" : "") + ": " + trimmed(tail(result.out + result.err, 6));
  }

  std::string start_server(ActorState &state, const std::string &port_file) {
    state.server = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{bin(state.spec->role), "--state", state.dir, "serve"},
        environment(*state.spec), state.dir + ".log");
    if (!wait_for_file(port_file))
      return state.spec->id + " did not start serving: " + tail(pki::read_file(state.dir + ".log"), 6);
    return "";
  }

  std::string set_up_hub(ActorState &hub) {
    if (auto failure = run_and_show(hub, {"init"}); !failure.empty())
      return failure;
    for (const auto &name : hub.spec->hubs) {
      std::string token; // printed by `hub create`; the runner reads the token file
      if (auto failure = run_and_show(hub, {"create", "--name", name}, &token); !failure.empty())
        return failure;
    }
    if (auto failure = start_server(hub, hub.dir + "/api.port"); !failure.empty())
      return failure;
    for (const auto &name : hub.spec->hubs)
      if (!wait_for_file(hub.dir + "/hubs/" + name + ".mqtt.port"))
        return "the hub opened no MQTT port for " + name;
    hub.api_port = read_port(hub.dir + "/api.port");
    std::string fingerprint;
    run_and_show(hub, {"fingerprint"}, &fingerprint);
    hub.fingerprint = trimmed(fingerprint);
    return "";
  }

  std::string set_up_enrolled(ActorState &actor) {
    const ActorSpec &spec = *actor.spec;
    bool device = spec.role == "device";
    std::vector<std::string> init = {"init"};
    if (device)
      init.insert(init.end(), {"--id", spec.name});
    else
      init.insert(init.end(), {"--name", spec.name});
    init.insert(init.end(), {"--backend", spec.backend, "--key-type", spec.key_type});
    if (spec.path_len && !device)
      init.insert(init.end(), {"--path-len", std::to_string(*spec.path_len)});
    if (!spec.parent.empty()) {
      ActorState &parent = actors_.at(spec.parent);
      std::vector<std::string> issue = {"issue-secret", "--subject", "CN=" + spec.name, "--profile",
                                        device ? "device" : "subordinate-ca"};
      if (spec.path_len && !device)
        issue.insert(issue.end(), {"--path-len", std::to_string(*spec.path_len)});
      if (device && !spec.enrol)
        return run_and_show(actor, init); // the key only; a step enrols it
      std::string secret;
      if (auto failure = run_and_show(parent, issue, &secret); !failure.empty())
        return failure;
      secrets_[spec.id] = trimmed(secret);
      std::vector<std::string> parent_args = {
          device ? "--ca-port" : "--parent-port", std::to_string(parent.est_port),
          device ? "--ca-fingerprint" : "--parent-fingerprint", parent.fingerprint,
          device ? "--ca-name" : "--parent-name", parent.spec->name, "--secret", trimmed(secret)};
      interact(spec.id, parent.spec->id, "EST simpleenroll (one-time secret)", false);
      if (device) {
        if (auto failure = run_and_show(actor, init); !failure.empty())
          return failure;
        std::vector<std::string> enroll = {"enroll"};
        enroll.insert(enroll.end(), parent_args.begin(), parent_args.end());
        return run_and_show(actor, enroll);
      }
      init.insert(init.end(), parent_args.begin(), parent_args.end());
    }
    if (auto failure = run_and_show(actor, init); !failure.empty())
      return failure;
    if (device)
      return "";
    if (auto failure = start_server(actor, actor.dir + "/est.port"); !failure.empty())
      return failure;
    actor.est_port = read_port(actor.dir + "/est.port");
    std::string fingerprint;
    run_and_show(actor, {"fingerprint"}, &fingerprint);
    actor.fingerprint = trimmed(fingerprint);
    return "";
  }

  // ---- steps ----
  ActorState &hub_serving(const std::string &hub_name) {
    for (auto &[id, state] : actors_)
      if (state.spec->role == "hub" &&
          std::count(state.spec->hubs.begin(), state.spec->hubs.end(), hub_name))
        return state;
    throw Error(Reason::config_invalid, scenario_.file + ": no hub actor serves a hub named \"" +
                                            hub_name + "\"");
  }

  std::string arg(const StepSpec &step, const std::string &key) {
    if (!step.args.contains(key) || !step.args[key].is_string())
      throw Error(Reason::config_invalid, scenario_.file + ": " + step.pointer + "/args/" + key +
                                              ": expected a string");
    return step.args[key];
  }

  HttpResponse hub_api(ActorState &hub, const std::string &method, const std::string &path,
                       const std::string &hub_name, const std::string &body = "") {
    net::PinnedClientContext tls(hub.fingerprint, "127.0.0.1");
    std::string token = trimmed(pki::read_file(hub.dir + "/hubs/" + hub_name + ".token"));
    return net::https_request("127.0.0.1", hub.api_port, tls.get(),
                              {method, "/hubs/" + hub_name + path,
                               {{"Authorization", "Bearer " + token},
                                {"Content-Type", "application/json"}},
                               body});
  }

  long last_event_id(ActorState &hub, const std::string &hub_name) {
    auto events = json::parse(hub_api(hub, "GET", "/events", hub_name).body);
    return events["events"].empty() ? 0 : events["events"].back().value("id", 0L);
  }

  StepResult run_step(const StepSpec &step, size_t index) {
    const Expectation &expect = step.expect;
    out_ << "\n\033[1m== step " << index + 1 << "/" << scenario_.steps.size() << ": " << step.name
         << "\033[0m  (expect " << expect.outcome
         << (expect.reason.empty() ? "" : ": " + expect.reason)
         << (expect.hub_event.empty() ? "" : ", hub records " + expect.hub_event) << ")\n";
    auto started = Clock::now();
    StepResult result{step.name, step.actor, step.action, false, "", "", {}};
    try {
      ActorState &actor = actors_.at(step.actor);
      std::string hub_name = step.args.contains("hub") ? arg(step, "hub") : "";
      ActorState *hub = hub_name.empty() ? nullptr : &hub_serving(hub_name);
      long events_before = hub && !expect.hub_event.empty() ? last_event_id(*hub, hub_name) : 0;
      if (actor.spec->role == "hub")
        check_api_step(step, actor, result);
      else if (step.action == "forge-certificate" || step.action == "copy-identity" ||
               step.action == "hold-connection")
        misbehave(step, actor, hub, hub_name, result);
      else
        check_command_step(step, actor, hub, hub_name, result);
      if (result.passed && !expect.hub_event.empty())
        check_hub_event(*hub, hub_name, events_before, expect.hub_event, result);
    } catch (const Error &error) {
      result.passed = false;
      result.message = error.what();
    }
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return result;
  }

  std::vector<std::string> command_for(const StepSpec &step, ActorState &actor, ActorState *hub,
                                       const std::string &hub_name) {
    const std::string &action = step.action;
    auto need_hub = [&] {
      if (!hub)
        throw Error(Reason::config_invalid,
                    scenario_.file + ": " + step.pointer + "/args/hub: expected the hub to use");
    };
    if (action == "register-ca") {
      need_hub();
      interact(actor.spec->id, hub->spec->id, "register CA: upload, verification code, proof", false);
      return {"register-ca", "--hub", hub_name, "--hub-port", std::to_string(hub->api_port),
              "--hub-fingerprint", hub->fingerprint, "--token-file",
              hub->dir + "/hubs/" + hub_name + ".token"};
    }
    if (action == "connect" || action == "send") {
      need_hub();
      std::string port = trimmed(pki::read_file(hub->dir + "/hubs/" + hub_name + ".mqtt.port"));
      std::string target = hub->spec->id;
      if (step.args.contains("impostor")) { // another server poses as the hub
        ActorState &impostor = actors_.at(arg(step, "impostor"));
        port = std::to_string(impostor.est_port);
        target = impostor.spec->id;
      }
      std::vector<std::string> command = {action, "--hub-port", port, "--hub-fingerprint",
                                          hub->fingerprint};
      if (step.args.value("omit_intermediates", false))
        command.push_back("--omit-intermediates");
      if (step.args.value("allow_weak_crypto", false))
        command.push_back("--allow-weak-crypto");
      if (step.args.value("impersonate", false))
        command.push_back("--impersonate");
      for (const auto &[key, option] : {std::pair{"client_id", "--client-id"},
                                        std::pair{"publish_as", "--publish-as"}})
        if (step.args.contains(key))
          command.insert(command.end(), {option, arg(step, key)});
      if (action == "send")
        command.insert(command.end(), {"--message", step.args.value("message", "{}")});
      if (action == "send" && step.args.contains("receive_seconds"))
        command.insert(command.end(),
                       {"--receive-seconds", std::to_string(step.args.value("receive_seconds", 0))});
      interact(actor.spec->id, target,
               action == "send" ? "MQTT over mutual TLS: CONNECT, PUBLISH telemetry"
                                : "MQTT over mutual TLS: CONNECT",
               false);
      return command;
    }
    if (action == "enroll") {
      // Misbehaviour: enrol with no secret ("none") or one already used by
      // another actor ("used-by:<actor id>").
      ActorState &parent = actors_.at(actor.spec->parent);
      std::vector<std::string> command = {"enroll", "--ca-port", std::to_string(parent.est_port),
                                          "--ca-fingerprint", parent.fingerprint, "--ca-name",
                                          parent.spec->name};
      std::string secret = step.args.value("secret", "none");
      if (secret.rfind("used-by:", 0) == 0) {
        auto used = secrets_.find(secret.substr(8));
        if (used == secrets_.end())
          throw Error(Reason::config_invalid, scenario_.file + ": " + step.pointer +
                                                  "/args/secret: no secret was used by " +
                                                  secret.substr(8));
        command.insert(command.end(), {"--secret", used->second});
      } else if (secret != "none") {
        throw Error(Reason::config_invalid, scenario_.file + ": " + step.pointer +
                                                "/args/secret: expected \"none\" or \"used-by:<actor>\"");
      }
      interact(actor.spec->id, parent.spec->id, "EST simpleenroll (" + secret + ")", false);
      return command;
    }
    if (action == "reenroll") {
      interact(actor.spec->id, actor.spec->parent, "EST simplereenroll (current certificate)", false);
      return {"reenroll"};
    }
    return {action}; // list, show
  }

  void check_command_step(const StepSpec &step, ActorState &actor, ActorState *hub,
                          const std::string &hub_name, StepResult &result) {
    auto command = command_for(step, actor, hub, hub_name);
    std::optional<long> clock_offset;
    if (step.args.contains("clock_offset_seconds"))
      clock_offset = step.args.value("clock_offset_seconds", 0L);
    auto outcome = actor_command(actor, command, clock_offset);
    out_ << outcome.out;
    bool refused = outcome.exit_code != 0;
    if (!result_.interactions.empty() && result_.interactions.back().from == actor.spec->id)
      result_.interactions.back().refused = refused;
    std::string stated = refused ? trimmed(tail(outcome.err, 3)) : "it succeeded";
    const Expectation &expect = step.expect;
    if (outcome.timed_out) {
      result.message = step.name + " did not finish within " + std::to_string(scenario_.timeout_seconds) + " s";
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
      result.message = refused ? "refused as expected: " + stated
                               : step.name + " succeeded as expected";
    }
    if (!result.passed)
      result.output_tail = tail(outcome.out + outcome.err, 12) +
                           (hub ? server_log_tail(hub->spec->id) : "");
  }

  // ---- misbehaviour the runner performs itself ----
  void misbehave(const StepSpec &step, ActorState &actor, ActorState *hub,
                 const std::string &hub_name, StepResult &result) {
    if (step.action == "copy-identity") {
      // "Take a file from another actor": its key file and certificates.
      ActorState &source = actors_.at(arg(step, "from"));
      bool with_key = !step.args.value("without_key", false);
      for (const auto *file : {"keys/identity-key.key.pem", "certificate.pem", "intermediates.pem",
                               "root.pem", "fullchain.pem"}) {
        if (!with_key && std::string(file).rfind("keys/", 0) == 0)
          continue; // a copied certificate, but the key stayed in its token
        std::filesystem::create_directories(std::filesystem::path(actor.dir + "/" + file).parent_path());
        std::filesystem::copy_file(source.dir + "/" + file, actor.dir + "/" + file,
                                   std::filesystem::copy_options::overwrite_existing);
      }
      interact(actor.spec->id, source.spec->id,
               with_key ? "copies its key and certificates (a leak)" : "copies its certificates", false);
      result.passed = true;
      result.message = actor.spec->id + " now holds " + source.spec->id +
                       (with_key ? "'s key and certificates" : "'s certificates (not its key)");
    } else if (step.action == "hold-connection") {
      if (!hub)
        throw Error(Reason::config_invalid, scenario_.file + ": " + step.pointer + "/args/hub: expected the hub");
      std::string port = trimmed(pki::read_file(hub->dir + "/hubs/" + hub_name + ".mqtt.port"));
      held_.push_back(std::make_unique<BackgroundProcess>(
          std::vector<std::string>{bin("device"), "--state", actor.dir, "send", "--hub-port", port,
                                   "--hub-fingerprint", hub->fingerprint, "--message", "{}",
                                   "--receive-seconds", std::to_string(step.args.value("seconds", 10))},
          environment(*actor.spec), actor.dir + ".held.log"));
      // Connected once the hub has acknowledged its telemetry.
      auto deadline = Clock::now() + step_timeout();
      while (Clock::now() < deadline &&
             pki::read_file(actor.dir + ".held.log").find("acknowledged") == std::string::npos)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      result.passed = pki::read_file(actor.dir + ".held.log").find("acknowledged") != std::string::npos;
      out_ << pki::read_file(actor.dir + ".held.log");
      interact(actor.spec->id, hub->spec->id, "MQTT CONNECT, stays connected", !result.passed);
      result.message = result.passed ? actor.spec->id + " is connected and stays connected"
                                     : actor.spec->id + " could not connect";
    } else {
      forge(step, actor, result);
    }
  }

  void forge(const StepSpec &step, ActorState &actor, StepResult &result) {
    std::string signer = arg(step, "signer");
    std::string signer_dir = signer == "self" ? "" : actors_.at(signer).dir;
    result.message = forge_certificate({actor.dir, actor.spec->name, signer_dir, step.args});
    result.passed = true;
    if (signer != "self")
      interact(actor.spec->id, signer, "forges a certificate signed with its key", false);
  }

  void check_hub_event(ActorState &hub, const std::string &hub_name, long after,
                       const std::string &reason, StepResult &result) {
    // The hub records a refusal as it happens; give it a moment.
    for (int attempt = 0; attempt < 30; ++attempt) {
      auto events = json::parse(hub_api(hub, "GET", "/events?after=" + std::to_string(after), hub_name).body);
      for (const auto &event : events["events"])
        if (event.value("reason", "") == reason) {
          result.message += "; the hub recorded " + reason + ": " + event.value("detail", "");
          return;
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    result.passed = false;
    result.message += "; but the hub recorded no " + reason + " event";
    result.output_tail = server_log_tail(hub.spec->id);
  }

  // hub_call makes the API call an operator (or an attacker) step asks for.
  HttpResponse hub_call(const StepSpec &step, ActorState &hub, const std::string &hub_name) {
    const std::string &action = step.action;
    if (action == "upload-ca") {
      // The certificate only, with no proof of possession: what an owner
      // does first, and all a thief of the (public) certificate can do.
      ActorState &ca = actors_.at(arg(step, "ca"));
      std::string pem = pki::read_file(ca.dir + "/certificate.pem");
      if (step.args.value("with_key", false)) // the mistake the hub must refuse
        pem += pki::read_file(ca.dir + "/keys/identity-key.key.pem");
      auto response = hub_api(hub, "PUT", "/certificates/" + ca.spec->name, hub_name,
                              json{{"certificate", pem}}.dump());
      interact(hub.spec->id, hub.spec->id, "upload of " + ca.spec->name + "'s CA certificate",
               response.status >= 400);
      return response;
    }
    if (action == "replay-verification") {
      // An eavesdropper captured the verification certificate the CA sent
      // to some hub, and offers it for its own upload here.
      ActorState &ca = actors_.at(arg(step, "ca"));
      registry::IssuanceLog log(ca.dir + "/issuance.db");
      std::string captured;
      for (const auto &record : log.list())
        if (record.profile == "verification")
          captured = record.certificate_pem;
      if (captured.empty())
        throw Error(Reason::config_invalid, scenario_.file + ": " + step.pointer +
                                                ": " + ca.spec->name +
                                                " has sent no verification certificate to capture");
      std::string path = "/certificates/" + ca.spec->name;
      hub_api(hub, "POST", path + "/generateVerificationCode", hub_name);
      auto response =
          hub_api(hub, "POST", path + "/verify", hub_name, json{{"certificate", captured}}.dump());
      interact(hub.spec->id, hub.spec->id, "replayed verification certificate of " + ca.spec->name,
               response.status >= 400);
      return response;
    }
    if (action == "set-onboarding") {
      return hub_api(hub, "POST", "/certificates/" + arg(step, "ca") + "/onboarding", hub_name,
                         json{{"policy", arg(step, "policy")}}.dump());
    }
    if (action == "register-device") {
      json body = json::object();
      if (step.args.contains("thumbprint_of")) { // one-to-one: that certificate's thumbprint
        ActorState &holder = actors_.at(arg(step, "thumbprint_of"));
        auto cert = pki::parse_certificate(pki::read_file(holder.dir + "/certificate.pem"), holder.spec->id);
        body["thumbprint"] = pki::sha256_fingerprint(cert.get());
      }
      return hub_api(hub, "PUT", "/devices/" + arg(step, "device"), hub_name, body.dump());
    }
    if (action == "disable-group" || action == "enable-group")
      return hub_api(hub, "POST",
                     "/devices/" + action.substr(0, action.find('-')) +
                         "?under=" + percent_encode(arg(step, "under")),
                     hub_name);
    // disable-ca, enable-ca, disable-device, enable-device, approve-device
    std::string target = action.find("-ca") != std::string::npos
                             ? "/certificates/" + arg(step, "ca")
                             : "/devices/" + arg(step, "device");
    return hub_api(hub, "POST", target + "/" + action.substr(0, action.find('-')), hub_name);
  }

  void check_api_step(const StepSpec &step, ActorState &hub, StepResult &result) {
    std::string hub_name = arg(step, "hub");
    const std::string &action = step.action;
    HttpResponse response;
    if (action == "expect-devices") {
      std::string query;
      for (const auto *key : {"issuer", "ca", "under", "status"})
        if (step.args.contains(key))
          query += std::string(query.empty() ? "?" : "&") + key + "=" + percent_encode(arg(step, key));
      response = hub_api(hub, "GET", "/devices" + query, hub_name);
      auto body = json::parse(response.body);
      long expected = step.args.value("count", -1L);
      long found = body.value("count", -1L);
      result.passed = response.status == 200 && found == expected;
      result.message = "hub " + hub_name + " lists " + std::to_string(found) + " device(s)" +
                       (query.empty() ? "" : " for " + query.substr(1)) + ", expected " +
                       std::to_string(expected);
      return;
    }
    if (action == "expect-event") {
      std::string reason = arg(step, "reason");
      response = hub_api(hub, "GET", "/events", hub_name);
      auto body = json::parse(response.body);
      long count = body["refusalsByReason"].value(reason, 0L);
      result.passed = count > 0;
      result.message = "hub " + hub_name + " counted " + std::to_string(count) + " " + reason +
                       " refusal(s)";
      return;
    }
    response = hub_call(step, hub, hub_name);
    bool refused = response.status >= 400;
    std::string reason = response.header("X-Chainlab-Reason");
    result.passed = step.expect.outcome == "refused" ? refused && reason == step.expect.reason : !refused;
    result.message = action + " answered HTTP " + std::to_string(response.status) +
                     (reason.empty() ? "" : " (" + reason + ")");
  }

  const Scenario &scenario_;
  const RunOptions &options_;
  std::ostream &out_;
  std::string work_dir_;
  std::map<std::string, ActorState> actors_;
  std::map<std::string, std::string> secrets_; // actor id -> the secret it enrolled with
  std::vector<std::unique_ptr<BackgroundProcess>> held_; // connections held open
  RunResult result_;
};

} // namespace

bool RunResult::passed() const {
  if (interrupted || steps.empty())
    return false;
  return std::all_of(steps.begin(), steps.end(), [](const StepResult &s) { return s.passed; });
}

RunResult run_scenario(const Scenario &scenario, const RunOptions &options, std::ostream &transcript) {
  return Run(scenario, options, transcript).execute();
}

} // namespace chainlab::scenario
