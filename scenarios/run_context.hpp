// scenarios/run_context.hpp: what a scenario step's action may use of the
// run: the actors and their state, their commands, the hub's API, the
// narration and the sequence of interactions.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/http_message.hpp"
#include "scenarios/process.hpp"
#include "scenarios/runner.hpp"

namespace chainlab::scenario {

struct ActorState {
  const ActorSpec *spec = nullptr;
  std::string dir;
  std::uint16_t est_port = 0;
  std::string fingerprint; // a CA's certificate, or a hub's service CA
  std::unique_ptr<BackgroundProcess> server;
  size_t log_offset = 0;
  std::uint16_t api_port = 0; // hub only
};

// StepCall: one step as its action sees it.
struct StepCall {
  const StepSpec &spec;
  ActorState &actor;
  ActorState *hub = nullptr; // the hub actor serving args.hub, when the step names one
  std::string hub_name;
  StepResult &result;
};

std::string tail(const std::string &text, size_t lines);
std::string trimmed(std::string text);

class RunContext {
public:
  RunContext(const Scenario &scenario, const RunOptions &options, std::ostream &transcript)
      : scenario_(scenario), options_(options), out_(transcript) {}

  std::ostream &out() { return out_; }
  const std::string &scenario_file() const { return scenario_.file; }
  const Scenario &scenario() const { return scenario_; }
  const RunOptions &options() const { return options_; }
  ActorState &actor(const std::string &id);
  // arg is the step's string argument |key|, or Error naming its pointer.
  std::string arg(const StepSpec &step, const std::string &key) const;
  [[noreturn]] void invalid(const StepSpec &step, const std::string &where,
                            const std::string &what) const;
  ActorState &need_hub(const StepCall &call) const;
  std::string mqtt_port(const StepCall &call) const;

  CommandResult actor_command(const ActorState &actor, std::vector<std::string> args,
                              std::optional<long> clock_offset = std::nullopt);
  HttpResponse hub_api(ActorState &hub, const std::string &method, const std::string &path,
                       const std::string &hub_name, const std::string &body = "");
  // interact records an exchange for the diagram; |response| is what comes
  // back if it succeeds.
  void interact(const std::string &from, const std::string &to, const std::string &what,
                bool refused, const std::string &response = "");
  // mark_last_interaction sets whether |from|'s latest interaction was
  // refused, and why, from the requester's |narration| ("error (reason): ...").
  void mark_last_interaction(const std::string &from, bool refused,
                             const std::string &narration = "");
  std::string server_log_tail(const std::string &actor_id);

  std::string bin(const std::string &role) const { return options_.bin_dir + "/" + role; }
  // step_timeout bounds each command: the running step's own timeout, else
  // the scenario's.
  std::chrono::milliseconds step_timeout() const {
    return std::chrono::seconds(step_timeout_seconds_.value_or(scenario_.timeout_seconds));
  }
  static Environment environment(const ActorSpec &spec);

  std::map<std::string, std::string> secrets; // actor id -> the secret it enrolled with
  std::vector<std::unique_ptr<BackgroundProcess>> held; // connections held open

protected:
  const Scenario &scenario_;
  const RunOptions &options_;
  std::ostream &out_;
  std::string work_dir_;
  std::map<std::string, ActorState> actors_;
  RunResult result_;
  bool setting_up_ = false; // interactions belong to the set-up
  std::optional<int> step_timeout_seconds_; // the running step's own timeout
};

} // namespace chainlab::scenario
