#include "scenarios/run_context.hpp"

#include "core/error.hpp"
#include "net/https_client.hpp"
#include "net/tls_context.hpp"
#include "pki/encoding.hpp"

namespace chainlab::scenario {

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

ActorState &RunContext::actor(const std::string &id) {
  auto found = actors_.find(id);
  if (found == actors_.end())
    throw Error(Reason::config_invalid, scenario_.file + ": no actor \"" + id + "\" has been set up");
  return found->second;
}

std::string RunContext::arg(const StepSpec &step, const std::string &key) const {
  if (!step.args.contains(key) || !step.args[key].is_string())
    invalid(step, "/args/" + key, "expected a string");
  return step.args[key];
}

void RunContext::invalid(const StepSpec &step, const std::string &where,
                         const std::string &what) const {
  throw Error(Reason::config_invalid, scenario_.file + ": " + step.pointer + where + ": " + what);
}

ActorState &RunContext::need_hub(const StepCall &call) const {
  if (!call.hub)
    invalid(call.spec, "/args/hub", "expected the hub to use");
  return *call.hub;
}

std::string RunContext::mqtt_port(const StepCall &call) const {
  return trimmed(pki::read_file(need_hub(call).dir + "/hubs/" + call.hub_name + ".mqtt.port"));
}

Environment RunContext::environment(const ActorSpec &spec) {
  if (spec.clock_offset_seconds == 0)
    return {};
  return {{"CHAINLAB_CLOCK_OFFSET_SECONDS", std::to_string(spec.clock_offset_seconds)}};
}

CommandResult RunContext::actor_command(const ActorState &actor, std::vector<std::string> args,
                                        std::optional<long> clock_offset) {
  args.insert(args.begin(), {bin(actor.spec->role), "--state", actor.dir});
  Environment env = environment(*actor.spec);
  if (clock_offset) // a step may run at another time than its actor
    env["CHAINLAB_CLOCK_OFFSET_SECONDS"] = std::to_string(*clock_offset);
  return run_command(args, env, step_timeout());
}

HttpResponse RunContext::hub_api(ActorState &hub, const std::string &method, const std::string &path,
                                 const std::string &hub_name, const std::string &body) {
  net::PinnedClientContext tls(hub.fingerprint, "127.0.0.1");
  std::string token = trimmed(pki::read_file(hub.dir + "/hubs/" + hub_name + ".token"));
  return net::https_request("127.0.0.1", hub.api_port, tls.get(),
                            {method, "/hubs/" + hub_name + path,
                             {{"Authorization", "Bearer " + token},
                              {"Content-Type", "application/json"}},
                             body});
}

void RunContext::interact(const std::string &from, const std::string &to, const std::string &what,
                          bool refused, const std::string &response) {
  Interaction exchange{from, to, what, refused, setting_up_, response, "", "", {}};
  result_.interactions.push_back(std::move(exchange));
}

void RunContext::mark_last_interaction(const std::string &from, bool refused,
                                       const std::string &narration) {
  if (result_.interactions.empty() || result_.interactions.back().from != from)
    return;
  Interaction &exchange = result_.interactions.back();
  exchange.refused = refused;
  Narrated said = read_narration(narration);
  for (const auto &check : said.checks) // the requester's account of the answer
    if (check.rfind("hub ", 0) == 0 || check.rfind("the hub ", 0) == 0)
      exchange.checks.push_back(check);
  if (refused) {
    exchange.reason = said.reason;
    exchange.explanation = said.explanation;
  }
}

std::string RunContext::server_log_tail(const std::string &actor_id) {
  auto found = actors_.find(actor_id);
  if (found == actors_.end() || !found->second.server)
    return "";
  return tail(pki::read_file(found->second.server->log_file()), 8);
}

} // namespace chainlab::scenario
