// scenarios/conformance/judges.hpp: verdicts from observations. Each check
// is judged by one named function over what the suite's hub and EST server
// recorded, never over what the device printed. Pure: unit-tested with
// hand-made records.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "scenarios/conformance/checks.hpp"
#include "scenarios/conformance/hostile_server.hpp"
#include "scenarios/conformance/supply_chain.hpp"

namespace chainlab::conformance {

enum class Verdict { pass, fail, skipped };
std::string_view to_string(Verdict verdict);

struct SessionRecord {
  std::vector<ConnectionRecord> hub;          // connections to the suite's hub
  std::vector<ConnectionRecord> est_impostor; // connections to the impostor EST server
  std::string secret;                         // the one-time secret it was given, if any
  Clock::time_point launched, ended;
  bool exited = false;
  int exit_code = -1;
};

struct Observations {
  std::string device_id, hub_host;
  std::uint16_t hub_port = 0; // the main session's
  std::map<SessionKind, SessionRecord> sessions;
  std::vector<EnrolmentRecord> enrolments;
};

struct Judgement {
  Verdict verdict = Verdict::fail;
  std::string evidence;
};

Judgement judge(const CheckInfo &check, const Observations &observations);

} // namespace chainlab::conformance
