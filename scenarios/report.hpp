// scenarios/report.hpp: what a run leaves for machines and for pictures.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/runner.hpp"

namespace chainlab::scenario {

// xml_escape makes text safe in XML and HTML attributes and text (JUnit
// reports, the HTML report).
std::string xml_escape(const std::string &text);

nlohmann::json json_report(const std::vector<RunResult> &runs);
// junit_report: one <testsuite> per scenario, one <testcase> per step.
std::string junit_report(const std::vector<RunResult> &runs);
// mermaid_diagram: the sequence diagram of the run (scenarios/diagram.hpp).
std::string mermaid_diagram(const RunResult &run);

} // namespace chainlab::scenario
