// scenarios/runner.hpp: runs one scenario. It makes a private working
// directory, starts every actor as its own process on ephemeral loopback
// ports (set-up is narrated like any step), runs the steps in order, checks
// each expectation, and stops every process it started.
#pragma once

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "scenarios/scenario_file.hpp"

namespace chainlab::scenario {

struct StepResult {
  std::string name;
  std::string actor;
  std::string action;
  bool passed = false;
  std::string message;     // what was expected and what happened
  std::string output_tail; // the actor's last output, for a failing step
  std::chrono::milliseconds duration{0};
};

struct Interaction { // for the sequence diagram: who asked whom, and how it ended
  std::string from, to, what;
  bool refused = false;
};

struct RunResult {
  std::string scenario;
  std::string file;
  std::string work_dir;
  std::vector<StepResult> steps;
  std::vector<Interaction> interactions;
  bool interrupted = false;
  bool passed() const;
};

struct RunOptions {
  std::string bin_dir; // where company, factory, technician, device, hub live
  bool keep = false;   // keep the working directory
  // A conformance step runs the shell command of the profile it names; a
  // scenario file runs no command of its own choosing unless this is set.
  bool allow_device_commands = false;
};

RunResult run_scenario(const Scenario &scenario, const RunOptions &options, std::ostream &transcript);

} // namespace chainlab::scenario
