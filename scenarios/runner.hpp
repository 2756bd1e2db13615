// scenarios/runner.hpp: runs one scenario. It makes a private working
// directory, starts every actor as its own process on ephemeral loopback
// ports (set-up is narrated like any step), runs the steps in order, checks
// each expectation, and stops every process it started.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "scenarios/diagram.hpp"
#include "scenarios/scenario_file.hpp"

namespace chainlab::scenario {

struct StepResult {
  std::string name;
  std::string actor;
  std::string action;
  bool passed = false;
  std::string expected;    // the expectation, in words: "refused: peer_refused, ..."
  std::string message;     // what was expected and what happened
  std::string output_tail; // the actor's last output, for a failing step
  std::chrono::milliseconds duration{0};
};

// CertificateFacts: one actor's certificate, for the trust tree of a report.
struct CertificateFacts {
  std::string actor, role;
  std::string subject, issuer, serial, not_before, not_after;
  std::string path_len;     // "unlimited", a number, or "" for an end entity
  std::string key_location; // where the private key lives
  std::string issuer_actor = ""; // the actor whose key signed it; "" for a root or a stranger
};

struct HubEvent {
  std::string time, kind, reason, subject, detail;
};

// HubRecord: what one hub (tenant) recorded during the run.
struct HubRecord {
  std::string hub;
  std::map<std::string, long> refusals_by_reason;
  std::vector<HubEvent> refusals;
};

struct RunResult {
  std::string scenario;
  std::string file;
  std::string description;
  std::string work_dir;
  std::vector<StepResult> steps;
  std::vector<Participant> participants;
  std::vector<Interaction> interactions;
  std::vector<CertificateFacts> certificates;
  std::vector<HubRecord> hubs;
  std::string transcript; // as narrated, colour codes included
  bool interrupted = false;
  bool passed() const;
};

struct RunOptions {
  std::string bin_dir; // where company, factory, technician, device, hub live
  bool keep = false;   // keep the working directory
  // A conformance step runs the shell command of the profile it names; a
  // scenario file runs no command of its own choosing unless this is set.
  bool allow_device_commands = false;
  // pause before each step until a line arrives on stdin (a class watches
  // the hub's live page; a browser test drives the run step by step).
  bool pause = false;
};

RunResult run_scenario(const Scenario &scenario, const RunOptions &options, std::ostream &transcript);

} // namespace chainlab::scenario
