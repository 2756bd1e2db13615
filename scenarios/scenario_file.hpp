// scenarios/scenario_file.hpp: a scenario file, validated against the
// schema in scenarios/SCHEMA.md. Every error names the file, the JSON
// pointer of the offending value and what was expected there.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace chainlab::scenario {

struct Expectation {
  std::string outcome = "success"; // success or refused
  std::string reason;              // refused: the reason code on stderr
  std::string hub_event;           // a refusal the hub must have recorded
  std::string output_contains;
};

struct ActorSpec {
  std::string id;          // how steps name it
  std::string role;        // company, factory, technician, device, hub
  std::string name;        // CA name / device ID (default: id)
  std::string parent;      // the CA that signs it ("" = self-signed root)
  std::string backend = "pkcs11";
  std::string key_type = "ec-p256";
  std::optional<long> path_len;
  std::vector<std::string> hubs; // role hub: the named hubs it serves
  long clock_offset_seconds = 0;  // this actor's clock runs ahead (or behind)
  bool enrol = true;              // device: enrol at set-up (false: key only)
  bool attacker = false;          // drawn as an attacker (also inferred from its steps)
  Expectation expect;             // what its set-up should come to
};

struct StepSpec {
  std::string name;
  std::string actor;
  std::string action;
  nlohmann::json args = nlohmann::json::object();
  Expectation expect;
  std::optional<int> timeout_seconds; // overrides the scenario's for this step
  std::string pointer; // "/steps/3", for messages
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  int timeout_seconds = 30; // per set-up command and per step, unless the step sets its own
  std::vector<ActorSpec> actors;
  std::vector<StepSpec> steps;

  const ActorSpec *actor(const std::string &id) const;
};

// load_scenario reads and validates |path|. Throws Error(config_invalid).
Scenario load_scenario(const std::string &path);
// parse_scenario_text parses and validates the text of a scenario file.
Scenario parse_scenario_text(std::string_view text, const std::string &file);
// parse_scenario validates |document|; |file| names it in messages.
Scenario parse_scenario(const nlohmann::json &document, const std::string &file);

// The actions each role understands, for validation and documentation:
// built from the table of actions (scenarios/actions.cpp).
const std::map<std::string, std::vector<std::string>> &actions_by_role();

} // namespace chainlab::scenario
