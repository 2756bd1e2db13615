#include "scenarios/scenario_file.hpp"

#include <regex>
#include <set>

#include "core/error.hpp"
#include "core/reason.hpp"
#include "pki/encoding.hpp"

namespace chainlab::scenario {
namespace {

using nlohmann::json;

// Validator walks a document, keeping the JSON pointer of where it is.
class Validator {
public:
  explicit Validator(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string &pointer, const std::string &expected,
                         const json *found = nullptr) const {
    std::string got = found ? ", got " + (found->is_string() ? "\"" + found->get<std::string>() + "\""
                                                              : std::string(found->type_name()))
                            : "";
    throw Error(Reason::config_invalid,
                file_ + ": " + (pointer.empty() ? "/" : pointer) + ": expected " + expected + got);
  }

  const json &member(const json &object, const std::string &pointer, const std::string &key,
                     bool required) const {
    static const json absent;
    if (!object.contains(key)) {
      if (required)
        fail(pointer + "/" + key, "a value (it is required)");
      return absent;
    }
    return object.at(key);
  }

  std::string string(const json &object, const std::string &pointer, const std::string &key,
                     bool required, const std::string &fallback = "",
                     const std::vector<std::string> &allowed = {}) const {
    const json &value = member(object, pointer, key, required);
    if (value.is_null())
      return fallback;
    if (!value.is_string())
      fail(pointer + "/" + key, "a string", &value);
    std::string text = value;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), text) == allowed.end())
      fail(pointer + "/" + key, "one of " + join(allowed), &value);
    return text;
  }

  std::optional<long> integer(const json &object, const std::string &pointer,
                              const std::string &key, long minimum, long maximum) const {
    const json &value = member(object, pointer, key, false);
    if (value.is_null())
      return std::nullopt;
    if (!value.is_number_integer() || value.get<long>() < minimum || value.get<long>() > maximum)
      fail(pointer + "/" + key,
           "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum), &value);
    return value.get<long>();
  }

  void only_keys(const json &object, const std::string &pointer,
                 const std::set<std::string> &keys) const {
    for (const auto &[key, value] : object.items())
      if (!keys.count(key))
        fail(pointer + "/" + key, "no such field (allowed: " +
                                      join(std::vector<std::string>(keys.begin(), keys.end())) + ")");
  }

  static std::string join(const std::vector<std::string> &words) {
    std::string out;
    for (const auto &word : words)
      out += (out.empty() ? "" : ", ") + word;
    return out;
  }

private:
  std::string file_;
};

const std::regex kIdentifier("[a-z0-9][a-z0-9-]{0,62}");

Expectation parse_expectation(const Validator &v, const json &value, const std::string &pointer);

bool optional_bool(const Validator &v, const json &value, const std::string &pointer,
                   const char *key, bool absent) {
  const json &member = v.member(value, pointer, key, false);
  if (!member.is_null() && !member.is_boolean())
    v.fail(pointer + "/" + key, "true or false", &member);
  return member.is_null() ? absent : member.get<bool>();
}

ActorSpec parse_actor(const Validator &v, const json &value, const std::string &pointer,
                      const std::vector<ActorSpec> &earlier) {
  if (!value.is_object())
    v.fail(pointer, "an actor object", &value);
  v.only_keys(value, pointer, {"id", "role", "name", "parent", "backend", "key_type", "path_len",
                               "hubs", "clock_offset_seconds", "expect", "enrol", "attacker"});
  ActorSpec actor;
  actor.id = v.string(value, pointer, "id", true);
  if (!std::regex_match(actor.id, kIdentifier))
    v.fail(pointer + "/id", "lower-case letters, digits and - (like \"factory-y\")", &value["id"]);
  for (const auto &other : earlier)
    if (other.id == actor.id)
      v.fail(pointer + "/id", "an id not used by another actor", &value["id"]);
  actor.role = v.string(value, pointer, "role", true, "",
                        {"company", "factory", "technician", "device", "hub"});
  actor.name = v.string(value, pointer, "name", false, actor.id);
  actor.backend = v.string(value, pointer, "backend", false, "pkcs11", {"pkcs11", "file"});
  actor.key_type = v.string(value, pointer, "key_type", false, "ec-p256",
                            {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072"});
  actor.path_len = v.integer(value, pointer, "path_len", 0, 16);
  actor.clock_offset_seconds =
      v.integer(value, pointer, "clock_offset_seconds", -10L * 365 * 86400, 10L * 365 * 86400)
          .value_or(0);
  bool needs_parent = actor.role == "factory" || actor.role == "technician" || actor.role == "device";
  actor.parent = v.string(value, pointer, "parent", needs_parent);
  if (!actor.parent.empty()) {
    auto parent = std::find_if(earlier.begin(), earlier.end(),
                               [&](const ActorSpec &a) { return a.id == actor.parent; });
    if (parent == earlier.end() || parent->role == "device" || parent->role == "hub")
      v.fail(pointer + "/parent", "the id of a CA actor declared before this one", &value["parent"]);
  }
  actor.enrol = optional_bool(v, value, pointer, "enrol", true);
  actor.attacker = optional_bool(v, value, pointer, "attacker", false);
  actor.expect = parse_expectation(v, v.member(value, pointer, "expect", false), pointer + "/expect");
  if (actor.role == "hub") {
    const json &hubs = v.member(value, pointer, "hubs", true);
    if (!hubs.is_array() || hubs.empty())
      v.fail(pointer + "/hubs", "a non-empty array of hub names", &hubs);
    for (size_t i = 0; i < hubs.size(); ++i) {
      if (!hubs[i].is_string() || !std::regex_match(hubs[i].get<std::string>(), kIdentifier))
        v.fail(pointer + "/hubs/" + std::to_string(i), "a hub name like \"contoso\"", &hubs[i]);
      actor.hubs.push_back(hubs[i]);
    }
  }
  return actor;
}

Expectation parse_expectation(const Validator &v, const json &value, const std::string &pointer) {
  Expectation expect;
  if (value.is_null())
    return expect;
  if (!value.is_object())
    v.fail(pointer, "an expectation object", &value);
  v.only_keys(value, pointer, {"outcome", "reason", "hub_event", "output_contains"});
  expect.outcome = v.string(value, pointer, "outcome", false, "success", {"success", "refused"});
  expect.reason = v.string(value, pointer, "reason", expect.outcome == "refused");
  expect.hub_event = v.string(value, pointer, "hub_event", false);
  expect.output_contains = v.string(value, pointer, "output_contains", false);
  for (const auto *key : {"reason", "hub_event"}) {
    std::string code = key == std::string("reason") ? expect.reason : expect.hub_event;
    if (!code.empty() && !reason_from_string(code))
      v.fail(pointer + "/" + key, "a reason code from core/reason.hpp", &value[key]);
  }
  if (expect.outcome == "success" && !expect.reason.empty())
    v.fail(pointer + "/reason", "no reason when the outcome is success", &value["reason"]);
  return expect;
}

StepSpec parse_step(const Validator &v, const json &value, const std::string &pointer,
                    const Scenario &scenario) {
  if (!value.is_object())
    v.fail(pointer, "a step object", &value);
  v.only_keys(value, pointer, {"name", "actor", "action", "args", "expect", "timeout_seconds"});
  StepSpec step;
  step.pointer = pointer;
  step.actor = v.string(value, pointer, "actor", true);
  const ActorSpec *actor = scenario.actor(step.actor);
  if (!actor)
    v.fail(pointer + "/actor", "the id of a declared actor", &value["actor"]);
  step.action = v.string(value, pointer, "action", true, "", actions_by_role().at(actor->role));
  step.name = v.string(value, pointer, "name", false, step.actor + " " + step.action);
  const json &args = v.member(value, pointer, "args", false);
  if (!args.is_null() && !args.is_object())
    v.fail(pointer + "/args", "an object of arguments", &args);
  if (args.is_object())
    step.args = args;
  step.expect = parse_expectation(v, v.member(value, pointer, "expect", false), pointer + "/expect");
  if (auto seconds = v.integer(value, pointer, "timeout_seconds", 1, 600))
    step.timeout_seconds = int(*seconds);
  return step;
}

} // namespace

const ActorSpec *Scenario::actor(const std::string &id) const {
  for (const auto &candidate : actors)
    if (candidate.id == id)
      return &candidate;
  return nullptr;
}

Scenario parse_scenario(const json &document, const std::string &file) {
  Validator v(file);
  if (!document.is_object())
    v.fail("", "a scenario object", &document);
  v.only_keys(document, "", {"name", "description", "timeout_seconds", "actors", "steps"});
  Scenario scenario;
  scenario.file = file;
  scenario.name = v.string(document, "", "name", true);
  if (!std::regex_match(scenario.name, kIdentifier))
    v.fail("/name", "lower-case letters, digits and -", &document["name"]);
  scenario.description = v.string(document, "", "description", true);
  scenario.timeout_seconds = int(v.integer(document, "", "timeout_seconds", 1, 600).value_or(30));
  const json &actors = v.member(document, "", "actors", true);
  if (!actors.is_array() || actors.empty())
    v.fail("/actors", "a non-empty array of actors", &actors);
  for (size_t i = 0; i < actors.size(); ++i)
    scenario.actors.push_back(parse_actor(v, actors[i], "/actors/" + std::to_string(i), scenario.actors));
  const json &steps = v.member(document, "", "steps", true);
  if (!steps.is_array() || steps.empty())
    v.fail("/steps", "a non-empty array of steps", &steps);
  for (size_t i = 0; i < steps.size(); ++i)
    scenario.steps.push_back(parse_step(v, steps[i], "/steps/" + std::to_string(i), scenario));
  return scenario;
}

Scenario parse_scenario_text(std::string_view text, const std::string &file) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error &error) {
    throw Error(Reason::config_invalid,
                file + ": not JSON (byte " + std::to_string(error.byte) + "): " + error.what());
  } catch (const json::exception &error) { // a number out of range, such as 1e999
    throw Error(Reason::config_invalid, file + ": not usable JSON: " + error.what());
  }
  return parse_scenario(document, file);
}

Scenario load_scenario(const std::string &path) {
  return parse_scenario_text(pki::read_file(path), path);
}

} // namespace chainlab::scenario
