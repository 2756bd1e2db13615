// scenarios/html_report.hpp: one scenario run as a single, self-contained
// HTML page for trainers and students: the sequence diagram (rendered by
// Mermaid, bundled inline), the steps and their expectations, the
// transcript folded by actor, the trust tree and the hubs' refusals. It
// loads nothing from anywhere; every recorded text is escaped, and only the
// page's own two scripts may run (a Content-Security-Policy of their hashes).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "scenarios/runner.hpp"

namespace chainlab::scenario {

// fold_transcript groups the transcript's lines by who said them ("[Name]
// ..." lines under Name, the runner's own under "runner"), in order of first
// appearance; colour codes are removed.
std::vector<std::pair<std::string, std::string>> fold_transcript(const std::string &transcript);

// html_report: the page for |run|; |mermaid_js| is Mermaid's browser bundle.
std::string html_report(const RunResult &run, const std::string &mermaid_js);

// mermaid_bundle reads Mermaid's browser bundle ($CHAINLAB_MERMAID_JS, else
// the copy scripts/install-deps put in web/node_modules). Throws
// Error(config_invalid) naming the file when it is missing.
std::string mermaid_bundle();

} // namespace chainlab::scenario
