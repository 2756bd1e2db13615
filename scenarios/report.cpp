#include "scenarios/report.hpp"

#include <sstream>

namespace chainlab::scenario {

std::string xml_escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default:
      // Control characters (ANSI colours in output) are not valid XML 1.0.
      if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t')
        out += c;
    }
  }
  return out;
}

namespace {


std::string seconds(std::chrono::milliseconds duration) {
  std::ostringstream out;
  out << double(duration.count()) / 1000.0;
  return out.str();
}

} // namespace

nlohmann::json json_report(const std::vector<RunResult> &runs) {
  nlohmann::json report = nlohmann::json::array();
  for (const auto &run : runs) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto &step : run.steps)
      steps.push_back({{"name", step.name},
                       {"actor", step.actor},
                       {"action", step.action},
                       {"passed", step.passed},
                       {"message", step.message},
                       {"milliseconds", step.duration.count()}});
    report.push_back({{"scenario", run.scenario},
                      {"file", run.file},
                      {"passed", run.passed()},
                      {"interrupted", run.interrupted},
                      {"steps", steps}});
  }
  return report;
}

std::string junit_report(const std::vector<RunResult> &runs) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"chainlab scenarios\">\n";
  for (const auto &run : runs) {
    size_t failures = 0;
    std::chrono::milliseconds total{0};
    for (const auto &step : run.steps) {
      failures += !step.passed;
      total += step.duration;
    }
    out << "  <testsuite name=\"" << xml_escape(run.scenario) << "\" tests=\"" << run.steps.size()
        << "\" failures=\"" << failures << "\" time=\"" << seconds(total) << "\" file=\""
        << xml_escape(run.file) << "\">\n";
    for (const auto &step : run.steps) {
      out << "    <testcase classname=\"" << xml_escape(run.scenario) << "\" name=\""
          << xml_escape(step.name) << "\" time=\"" << seconds(step.duration) << "\"";
      if (step.passed) {
        out << "/>\n";
        continue;
      }
      out << ">\n      <failure message=\"" << xml_escape(step.message) << "\">"
          << xml_escape(step.output_tail) << "</failure>\n    </testcase>\n";
    }
    if (run.interrupted)
      out << "    <testcase classname=\"" << xml_escape(run.scenario)
          << "\" name=\"run\"><error message=\"interrupted\"/></testcase>\n";
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

std::string mermaid_diagram(const RunResult &run) {
  return mermaid_diagram(run.participants, run.interactions);
}

} // namespace chainlab::scenario
