#include "scenarios/html_report.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "scenarios/report.hpp"

#ifndef CHAINLAB_MERMAID_JS
#define CHAINLAB_MERMAID_JS ""
#endif

namespace chainlab::scenario {
namespace {

constexpr const char *kStyle = R"css(
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:80em;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}
.pass{color:#176f2c;font-weight:bold}.fail{color:#b3261e;font-weight:bold}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}pre{white-space:pre-wrap;word-break:break-word;background:#fafafa;padding:.6em;border:1px solid #eee}
pre.mermaid{background:none;border:none}
.tree ul{list-style:none;padding-left:1.6em;border-left:2px solid #ccd}.tree>ul{border-left:none;padding-left:0}
.cert{border:1px solid #bbc;border-radius:6px;padding:.4em .7em;margin:.4em 0;background:#f8f9ff;display:inline-block}
.cert b{font-size:1.05em}.cert dl{display:grid;grid-template-columns:auto 1fr;gap:.1em .8em;margin:.3em 0 0;font-size:.9em}
.cert dt{color:#555}.cert dd{margin:0;font-family:monospace}
.attacker{background:#fff1f0;border-color:#e0a0a0}
details{margin:.3em 0}summary{cursor:pointer;font-weight:bold}
)css";

// The page's own script: draw the diagram; say so on <body> for tests.
constexpr const char *kInitScript =
    "mermaid.initialize({startOnLoad:false,securityLevel:'strict',"
    "sequence:{wrap:false,useMaxWidth:false}});"
    "mermaid.run({querySelector:'pre.mermaid'})"
    ".then(function(){document.body.dataset.diagram='rendered';})"
    ".catch(function(e){document.body.dataset.diagram='failed';"
    "document.getElementById('diagram-error').textContent="
    "'The diagram could not be drawn: '+e;});";

std::string strip_colours(const std::string &text) {
  static const std::regex kColour("\033\\[[0-9;]*[A-Za-z]");
  return std::regex_replace(text, kColour, "");
}

// inline_script keeps a script's text from closing its <script> element.
std::string inline_script(std::string text) {
  static const std::string kClose = "</script";
  for (std::size_t at = text.find("</"); at != std::string::npos; at = text.find("</", at + 2)) {
    bool closes = text.size() - at >= kClose.size();
    for (std::size_t i = 2; closes && i < kClose.size(); ++i)
      closes = std::tolower(static_cast<unsigned char>(text[at + i])) == kClose[i];
    if (closes)
      text.replace(at, 2, "<\\/");
  }
  return text;
}

std::string csp_hash(const std::string &script) {
  return "'sha256-" + pki::base64_encode(pki::sha256_digest(script)) + "'";
}

void write_steps(std::ostream &out, const RunResult &run) {
  out << "<h2>Steps</h2>\n<table><tr><th>#</th><th>step</th><th>actor</th><th>action</th>"
         "<th>expected</th><th>result</th><th>what happened</th></tr>\n";
  int number = 0;
  for (const auto &step : run.steps)
    out << "<tr class=\"step\"><td>" << ++number << "</td><td>" << xml_escape(step.name)
        << "</td><td>" << xml_escape(step.actor) << "</td><td>" << xml_escape(step.action)
        << "</td><td>" << xml_escape(step.expected) << "</td><td class=\""
        << (step.passed ? "pass\">\u2713 pass" : "fail\">\u2717 fail") << "</td><td>"
        << xml_escape(step.message) << "</td></tr>\n";
  out << "</table>\n";
}

void write_hubs(std::ostream &out, const RunResult &run) {
  out << "<h2>The hub's refusals by reason</h2>\n";
  if (run.hubs.empty())
    out << "<p>No hub took part in this run.</p>\n";
  for (const auto &hub : run.hubs) {
    out << "<h3>hub " << xml_escape(hub.hub) << "</h3>\n";
    if (hub.refusals.empty()) {
      out << "<p>No refusals.</p>\n";
      continue;
    }
    out << "<table class=\"refusals\"><tr><th>reason</th><th>count</th></tr>\n";
    for (const auto &[reason, count] : hub.refusals_by_reason)
      out << "<tr><td>" << xml_escape(reason) << "</td><td>" << count << "</td></tr>\n";
    out << "</table>\n<details><summary>each refusal</summary><table><tr><th>time</th>"
           "<th>reason</th><th>subject</th><th>detail</th></tr>\n";
    for (const auto &event : hub.refusals)
      out << "<tr><td>" << xml_escape(event.time) << "</td><td>" << xml_escape(event.reason)
          << "</td><td>" << xml_escape(event.subject) << "</td><td>"
          << xml_escape(event.detail) << "</td></tr>\n";
    out << "</table></details>\n";
  }
}

class TrustTree {
public:
  TrustTree(const RunResult &run) : run_(run) {
    for (const auto &participant : run.participants)
      if (participant.attacker)
        attackers_.insert(participant.id);
  }

  void write(std::ostream &out) {
    out << "<h2>Trust tree</h2>\n<div class=\"tree\"><ul>\n";
    for (const auto &cert : run_.certificates)
      if (cert.issuer_actor.empty())
        write_node(out, cert, 0);
    out << "</ul></div>\n";
  }

private:
  void write_node(std::ostream &out, const CertificateFacts &cert, int depth) {
    bool attacker = attackers_.count(cert.actor) > 0;
    out << "<li><div class=\"cert" << (attacker ? " attacker" : "") << "\"><b>"
        << xml_escape(cert.subject) << "</b> (" << xml_escape(cert.role) << " "
        << xml_escape(cert.actor) << (attacker ? ", attacker" : "") << ")<dl>";
    for (const auto &[field, value] :
         {std::pair{"issuer", cert.issuer}, {"serial", cert.serial},
          {"valid", cert.not_before + " .. " + cert.not_after},
          {"pathLen", cert.path_len.empty() ? "end entity (not a CA)" : cert.path_len},
          {"key", cert.key_location}})
      out << "<dt>" << field << "</dt><dd>" << xml_escape(value) << "</dd>";
    out << "</dl></div>";
    if (!cert.path_len.empty() && depth < 16) {
      std::ostringstream children;
      for (const auto &child : run_.certificates)
        if (child.issuer_actor == cert.actor)
          write_node(children, child, depth + 1);
      if (!children.str().empty())
        out << "<ul>\n" << children.str() << "</ul>";
    }
    out << "</li>\n";
  }

  const RunResult &run_;
  std::set<std::string> attackers_;
};

void write_transcript(std::ostream &out, const RunResult &run) {
  out << "<h2>Transcript</h2>\n<p>Folded by actor; the last one holds the whole run in order.</p>\n";
  for (const auto &[speaker, text] : fold_transcript(run.transcript))
    out << "<details class=\"actor\"><summary>" << xml_escape(speaker) << "</summary><pre>"
        << xml_escape(text) << "</pre></details>\n";
  out << "<details><summary>the whole transcript</summary><pre>"
      << xml_escape(strip_colours(run.transcript)) << "</pre></details>\n";
}

} // namespace

std::vector<std::pair<std::string, std::string>> fold_transcript(const std::string &transcript) {
  std::vector<std::pair<std::string, std::string>> folded;
  std::map<std::string, std::size_t> index;
  std::istringstream lines(strip_colours(transcript));
  for (std::string line; std::getline(lines, line);) {
    std::string speaker = "runner";
    std::size_t close = line.find("] ");
    if (line.rfind('[', 0) == 0 && close != std::string::npos)
      speaker = line.substr(1, close - 1);
    auto [at, added] = index.emplace(speaker, folded.size());
    if (added)
      folded.emplace_back(speaker, "");
    folded[at->second].second += line + "\n";
  }
  return folded;
}

std::string html_report(const RunResult &run, const std::string &mermaid_js) {
  std::string bundle = inline_script(mermaid_js), init = kInitScript;
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src "
      << csp_hash(bundle) << " " << csp_hash(init)
      << "; style-src 'unsafe-inline'; img-src data:; font-src data:\">\n"
      << "<title>chainlab: " << xml_escape(run.scenario) << "</title>\n<style>" << kStyle
      << "</style></head>\n<body>\n<h1>scenario " << xml_escape(run.scenario) << ": <span class=\""
      << (run.passed() ? "pass\">PASS" : "fail\">FAIL") << "</span></h1>\n<p>"
      << xml_escape(run.description) << "</p>\n<p><small>" << xml_escape(run.file)
      << "</small></p>\n<h2>Sequence diagram</h2>\n<p id=\"diagram-error\"></p>\n<pre class=\"mermaid\">"
      << xml_escape(mermaid_diagram(run)) << "</pre>\n";
  write_steps(out, run);
  TrustTree(run).write(out);
  write_hubs(out, run);
  write_transcript(out, run);
  out << "<script>" << bundle << "</script>\n<script>" << init << "</script>\n</body></html>\n";
  return out.str();
}

std::string mermaid_bundle() {
  const char *configured = std::getenv("CHAINLAB_MERMAID_JS");
  std::string path = configured && *configured ? configured : CHAINLAB_MERMAID_JS;
  if (path.empty() || !std::filesystem::is_regular_file(path))
    throw Error(Reason::config_invalid,
                "the HTML report bundles Mermaid, but " + (path.empty() ? "no path" : path) +
                    " is missing: run scripts/install-deps (npm ci in web/), or set "
                    "CHAINLAB_MERMAID_JS to mermaid.min.js");
  return pki::read_file(path);
}

} // namespace chainlab::scenario
