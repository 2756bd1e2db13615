// The conformance suite's reports: the check list, a summary table for
// people, JUnit XML (one test case per check) and JSON.
#include <iomanip>
#include <sstream>

#include "scenarios/conformance/suite.hpp"
#include "scenarios/report.hpp"

namespace chainlab::conformance {

void print_checks(std::ostream &out) {
  for (const auto &check : all_checks()) {
    out << check.id << "  [" << (check.capability.empty() ? "every device" : check.capability)
        << "; session " << to_string(check.session) << "]\n"
        << "    proves: " << check.proves << "\n"
        << "    why:    " << check.why << "\n";
  }
}

void print_summary(const SuiteResult &result, std::ostream &out) {
  std::size_t passed = 0, failed = 0, skipped = 0;
  out << "\nconformance of " << result.profile << " (" << result.profile_file << ") as "
      << result.device_id << "\n\n";
  for (const auto &check : result.checks) {
    const char *mark = check.verdict == Verdict::pass   ? "PASS"
                       : check.verdict == Verdict::fail ? "FAIL"
                                                        : "SKIP";
    (check.verdict == Verdict::pass ? passed : check.verdict == Verdict::fail ? failed : skipped)++;
    out << "  " << mark << "  " << std::left << std::setw(28) << check.check->id << check.evidence
        << "\n";
  }
  out << "\n" << passed << " passed, " << failed << " failed, " << skipped << " skipped"
      << (result.interrupted ? " (interrupted)" : "") << "\n";
}

std::string junit_report(const SuiteResult &result) {
  using scenario::xml_escape;
  std::size_t failures = 0, skipped = 0;
  for (const auto &check : result.checks) {
    failures += check.verdict == Verdict::fail;
    skipped += check.verdict == Verdict::skipped;
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
      << "  <testsuite name=\"conformance: " << xml_escape(result.profile) << "\" tests=\""
      << result.checks.size() << "\" failures=\"" << failures << "\" skipped=\"" << skipped
      << "\" file=\"" << xml_escape(result.profile_file) << "\">\n";
  for (const auto &check : result.checks) {
    std::string id(check.check->id);
    out << "    <testcase classname=\"conformance." << xml_escape(id.substr(0, id.find('.')))
        << "\" name=\"" << xml_escape(id) << "\">\n";
    if (check.verdict == Verdict::fail)
      out << "      <failure message=\"" << xml_escape(check.evidence) << "\">"
          << xml_escape(std::string(check.check->proves)) << "</failure>\n";
    else if (check.verdict == Verdict::skipped)
      out << "      <skipped message=\"" << xml_escape(check.evidence) << "\"/>\n";
    out << "      <system-out>" << xml_escape(check.evidence) << "</system-out>\n    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

nlohmann::json json_report(const SuiteResult &result) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto &check : result.checks)
    checks.push_back({{"id", check.check->id},
                      {"capability", check.check->capability},
                      {"verdict", to_string(check.verdict)},
                      {"evidence", check.evidence}});
  return {{"profile", result.profile},  {"file", result.profile_file},
          {"deviceId", result.device_id}, {"passed", result.passed()},
          {"interrupted", result.interrupted}, {"checks", checks}};
}

} // namespace chainlab::conformance
