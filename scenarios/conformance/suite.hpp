// scenarios/conformance/suite.hpp: `scenario conformance`. Provisions the
// supply chain, runs the device under test once per session the chosen
// checks need (in parallel, each against its own hub on its own port, in
// its own state directory), judges every check, and reports.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "scenarios/conformance/judges.hpp"
#include "scenarios/conformance/profile.hpp"

namespace chainlab::conformance {

struct SuiteOptions {
  std::set<std::string> only; // check IDs; empty: all
  std::string bin_dir;        // chainlab's executables, first on the device's PATH
  bool keep = false;          // keep the working directory
};

struct CheckResult {
  const CheckInfo *check = nullptr;
  Verdict verdict = Verdict::fail;
  std::string evidence;
};

struct SuiteResult {
  std::string profile, profile_file, device_id, work_dir;
  std::vector<CheckResult> checks;
  bool interrupted = false;
  // passed: every check that applies passed (skipped ones do not count).
  bool passed() const;
};

SuiteResult run_conformance(const DeviceProfile &profile, const SuiteOptions &options,
                            std::ostream &transcript);

void print_checks(std::ostream &out); // --list-checks
void print_summary(const SuiteResult &result, std::ostream &out);
std::string junit_report(const SuiteResult &result);
nlohmann::json json_report(const SuiteResult &result);

} // namespace chainlab::conformance
