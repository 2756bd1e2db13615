#include "scenarios/runner.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
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
#include "scenarios/actions.hpp"
#include "scenarios/process.hpp"
#include "scenarios/run_records.hpp"

namespace chainlab::scenario {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class Run : public RunContext {
public:
  using RunContext::RunContext;

  RunResult execute() {
    result_.scenario = scenario_.name;
    result_.file = scenario_.file;
    result_.description = scenario_.description;
    result_.participants = participants_of(scenario_);
    make_work_dir();
    out_ << "\n\033[1m### scenario " << scenario_.name << "\033[0m: " << scenario_.description
         << "\n    (working directory " << work_dir_ << ")\n";
    bool ok = true;
    for (const auto &actor : scenario_.actors) {
      if (!ok || interrupted())
        break;
      ok = record(set_up(actor));
    }
    for (size_t i = 0; ok && i < scenario_.steps.size() && !interrupted(); ++i) {
      if (options_.pause && !stdin_ended_)
        pause_before(i);
      record(run_step(scenario_.steps[i], i));
    }
    held.clear(); // stops held connections first
    collect_records();
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
    await_refusal_narration();
    add_server_narration(result_.interactions, first_interaction_, flush_server_logs());
    out_ << (step.passed ? "  \u2713 " : "  \u2717 FAILED: ") << step.message << "\n";
    if (!step.passed && !step.output_tail.empty())
      out_ << "    last output of " << step.actor << ":\n" << step.output_tail << "\n";
    bool passed = step.passed;
    result_.steps.push_back(std::move(step));
    return passed;
  }

  // flush_server_logs prints what the servers narrated since last time,
  // and returns it by actor.
  std::map<std::string, std::string> flush_server_logs() {
    std::map<std::string, std::string> said;
    for (auto &[id, state] : actors_) {
      if (!state.server)
        continue;
      std::string log = pki::read_file(state.server->log_file());
      if (log.size() > state.log_offset)
        out_ << (said[id] = log.substr(state.log_offset));
      state.log_offset = log.size();
    }
    return said;
  }

  // pause_before waits for a line on stdin; at its end it stops pausing.
  void pause_before(std::size_t index) {
    out_ << "\n    paused before step " << index + 1 << "/" << scenario_.steps.size() << ": "
         << scenario_.steps[index].name << " (press Enter)" << std::endl;
    std::string line;
    stdin_ended_ = !std::getline(std::cin, line);
  }

  // await_refusal_narration gives a server that refused one of this step's
  // requests up to a second to say why, when the requester could not tell
  // (a TLS alert says little): the diagram names the server's reason.
  void await_refusal_narration() {
    for (std::size_t i = first_interaction_; i < result_.interactions.size(); ++i) {
      const Interaction &exchange = result_.interactions[i];
      auto server = actors_.find(exchange.to);
      if (!exchange.refused || (!exchange.reason.empty() && exchange.reason != "peer_refused") ||
          server == actors_.end() || !server->second.server)
        continue;
      auto deadline = Clock::now() + std::chrono::seconds(1);
      const std::string &log = server->second.server->log_file();
      while (Clock::now() < deadline &&
             pki::read_file(log).find("\u2717 refused (", server->second.log_offset) == std::string::npos)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // collect_records keeps each actor's certificate and each hub's refusals
  // for the reports, while the servers still run.
  void collect_records() {
    std::vector<const ActorState *> set_up;
    for (const auto &spec : scenario_.actors)
      if (auto found = actors_.find(spec.id); found != actors_.end())
        set_up.push_back(&found->second);
    result_.certificates = certificate_tree(set_up);
    for (const auto &spec : scenario_.actors) {
      auto found = actors_.find(spec.id);
      if (found == actors_.end())
        continue;
      ActorState &state = found->second;
      if (spec.role != "hub" || !state.api_port)
        continue;
      for (const auto &name : spec.hubs) {
        try {
          result_.hubs.push_back(hub_record(*this, state, name));
        } catch (const std::exception &error) {
          out_ << "    (could not read the events of hub " << name << ": " << error.what() << ")\n";
        }
      }
    }
  }

  // ---- set-up: every actor through its own executable ----
  StepResult set_up(const ActorSpec &spec) {
    out_ << "\n\033[1m== set-up: " << spec.id << " (" << spec.role << ")\033[0m\n";
    auto started = Clock::now();
    ActorState &state = actors_[spec.id];
    state.spec = &spec;
    state.dir = work_dir_ + "/" + spec.id;
    StepResult step{"set-up " + spec.id, spec.id, "set-up", false, "", "", "", {}};
    step.expected = spec.expect.outcome + (spec.expect.reason.empty() ? "" : ": " + spec.expect.reason);
    first_interaction_ = result_.interactions.size();
    setting_up_ = true;
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
      mark_last_interaction(spec.id, !failure.empty(), failure);
    } catch (const Error &error) {
      step.message = error.what();
    }
    setting_up_ = false;
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
    for (const auto &name : hub.spec->hubs)
      out_ << "    live page of hub " << name << ": https://127.0.0.1:" << hub.api_port << "/hubs/"
           << name << "/dashboard (token in " << hub.dir << "/hubs/" << name << ".token)\n";
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
      secrets[spec.id] = trimmed(secret);
      std::vector<std::string> parent_args = {
          device ? "--ca-port" : "--parent-port", std::to_string(parent.est_port),
          device ? "--ca-fingerprint" : "--parent-fingerprint", parent.fingerprint,
          device ? "--ca-name" : "--parent-name", parent.spec->name, "--secret", trimmed(secret)};
      interact(spec.id, parent.spec->id, "EST simpleenroll (one-time secret)", false,
               "certificate issued, appended to its log");
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

  StepResult run_step(const StepSpec &step, size_t index) {
    const Expectation &expect = step.expect;
    out_ << "\n\033[1m== step " << index + 1 << "/" << scenario_.steps.size() << ": " << step.name
         << "\033[0m  (expect " << expect.outcome
         << (expect.reason.empty() ? "" : ": " + expect.reason)
         << (expect.hub_event.empty() ? "" : ", hub records " + expect.hub_event) << ")\n";
    auto started = Clock::now();
    StepResult result{step.name, step.actor, step.action, false, "", "", "", {}};
    result.expected = expect.outcome + (expect.reason.empty() ? "" : ": " + expect.reason) +
                      (expect.hub_event.empty() ? "" : ", hub records " + expect.hub_event);
    first_interaction_ = result_.interactions.size();
    step_timeout_seconds_ = step.timeout_seconds;
    try {
      ActorState &actor = this->actor(step.actor);
      const Action *action = find_action(step.action, actor.spec->role);
      if (!action)
        invalid(step, "/action", "a " + actor.spec->role + " cannot " + step.action);
      std::string hub_name = step.args.contains("hub") ? arg(step, "hub") : "";
      ActorState *hub = hub_name.empty() ? nullptr : &hub_serving(hub_name);
      long events_before = hub && !expect.hub_event.empty() ? last_hub_event_id(*this, *hub, hub_name) : 0;
      StepCall call{step, actor, hub, hub_name, result};
      action->handler(*this, call);
      if (result.passed && !expect.hub_event.empty())
        check_hub_event(*hub, hub_name, events_before, expect.hub_event, result);
    } catch (const Error &error) {
      result.passed = false;
      result.message = error.what();
    } catch (const std::exception &error) { // a file system error, a malformed answer
      result.passed = false;
      result.message = step.name + ": " + error.what();
    }
    step_timeout_seconds_.reset();
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return result;
  }

  void check_hub_event(ActorState &hub, const std::string &hub_name, long after,
                       const std::string &reason, StepResult &result) {
    // The hub records a refusal as it happens; give it a moment.
    for (int attempt = 0; attempt < 30; ++attempt) {
      for (const auto &event : hub_events(*this, hub, hub_name, after))
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

  std::size_t first_interaction_ = 0; // the current step's first interaction
  bool stdin_ended_ = false;          // no more pauses
};

// TeeBuffer writes to the transcript and keeps a copy for the reports.
class TeeBuffer : public std::streambuf {
public:
  TeeBuffer(std::streambuf *out, std::string &copy) : out_(out), copy_(copy) {}

protected:
  int overflow(int c) override {
    if (c == traits_type::eof())
      return traits_type::not_eof(c);
    copy_ += char(c);
    return out_->sputc(char(c));
  }
  std::streamsize xsputn(const char *text, std::streamsize size) override {
    copy_.append(text, size);
    return out_->sputn(text, size);
  }
  int sync() override { return out_->pubsync(); }

private:
  std::streambuf *out_;
  std::string &copy_;
};

} // namespace

bool RunResult::passed() const {
  if (interrupted || steps.empty())
    return false;
  return std::all_of(steps.begin(), steps.end(), [](const StepResult &s) { return s.passed; });
}

RunResult run_scenario(const Scenario &scenario, const RunOptions &options, std::ostream &transcript) {
  std::string copy;
  TeeBuffer tee(transcript.rdbuf(), copy);
  std::ostream both(&tee);
  RunResult result = Run(scenario, options, both).execute();
  both.flush();
  result.transcript = std::move(copy);
  return result;
}

} // namespace chainlab::scenario
