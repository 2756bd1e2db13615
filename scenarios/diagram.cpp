#include "scenarios/diagram.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace chainlab::scenario {
namespace {

constexpr std::size_t kChecksPerNote = 3;
constexpr std::size_t kCheckLength = 72;

int rank(const Participant &participant,
         const std::map<std::string, const Participant *> &by_id) {
  if (participant.role == "hub")
    return 0;
  if (participant.role == "device")
    return 1000;
  int depth = 1; // a root CA; each parent above adds one
  for (auto at = by_id.find(participant.parent); at != by_id.end() && depth < 100;
       at = by_id.find(at->second->parent))
    ++depth;
  return depth;
}

// mermaid_text keeps |text| inside one Mermaid message: no line breaks, and
// entity codes for what Mermaid or HTML would read as syntax.
std::string mermaid_text(const std::string &text) {
  std::string out;
  for (char c : one_line(text, 400)) {
    switch (c) {
    case '<': out += "#lt;"; break;
    case '>': out += "#gt;"; break;
    case '&': out += "#amp;"; break;
    case '#': out += "#35;"; break;
    case ';': out += "#59;"; break;
    case '"': out += "#quot;"; break;
    case '%': out += "#37;"; break;
    case '`': out += "#96;"; break;
    case '\\': out += "#92;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string label(const Participant &participant) {
  std::string text = participant.role == "hub" ? "hub " + participant.name : participant.name;
  return participant.attacker ? "\u26a0 " + text + " (attacker)" : text;
}

class Drawing {
public:
  explicit Drawing(const std::vector<Participant> &participants) {
    out_ << "sequenceDiagram\n";
    std::map<std::string, int> uses; // two actors may claim one name (a rogue Factory-Y)
    for (const auto &participant : participants)
      ++uses[participant.name];
    for (const auto &participant : chain_order(participants))
      declare(participant.id, label(participant) +
                                  (uses[participant.name] > 1 ? " [" + participant.id + "]" : ""));
  }

  void draw(const Interaction &exchange) {
    std::string from = alias(exchange.from), to = alias(exchange.to);
    std::string refusal = "\u2717 " + exchange.reason +
                          (exchange.explanation.empty() ? "" : ": " + exchange.explanation);
    if (exchange.from == exchange.to) {
      out_ << "  Note over " << from << ": " << mermaid_text(exchange.what);
      if (exchange.refused)
        out_ << "<br/>" << mermaid_text(refusal);
      out_ << "\n";
      return;
    }
    out_ << "  " << from << (exchange.refused ? "-x" : "->>") << to << ": "
         << mermaid_text(exchange.what)
         << (exchange.refused && !exchange.reason.empty() ? " \u2717 " + mermaid_text(exchange.reason) : "")
         << "\n";
    note_checks(to, exchange.checks);
    if (exchange.refused)
      out_ << "  " << to << "--x" << from << ": "
           << mermaid_text(exchange.reason.empty() ? "\u2717 refused" : refusal) << "\n";
    else if (!exchange.response.empty())
      out_ << "  " << to << "-->>" << from << ": " << mermaid_text(exchange.response) << "\n";
  }

  void open_setup() {
    out_ << "  rect rgba(127, 127, 127, 0.10)\n  Note over P0";
    if (aliases_.size() > 1)
      out_ << "," << last_alias_;
    out_ << ": set-up: each CA and device enrols at its parent\n";
  }
  void close_setup() { out_ << "  end\n"; }
  bool empty() const { return aliases_.empty(); }
  std::string text() const { return out_.str(); }

private:
  void declare(const std::string &id, const std::string &text) {
    std::string alias = "P" + std::to_string(aliases_.size());
    aliases_.emplace(id, alias);
    last_alias_ = alias;
    out_ << "  participant " << alias << " as " << mermaid_text(text) << "\n";
  }

  // alias: an interaction with an actor that is no participant still draws.
  std::string alias(const std::string &id) {
    if (!aliases_.count(id))
      declare(id, id);
    return aliases_.at(id);
  }

  void note_checks(const std::string &over, const std::vector<std::string> &checks) {
    if (checks.empty())
      return;
    out_ << "  Note over " << over << ": ";
    for (std::size_t i = 0; i < checks.size() && i < kChecksPerNote; ++i)
      out_ << (i ? "<br/>" : "") << "\u2713 " << mermaid_text(one_line(checks[i], kCheckLength));
    out_ << "\n";
  }

  std::ostringstream out_;
  std::map<std::string, std::string> aliases_;
  std::string last_alias_;
};

std::string trim_left(const std::string &text) {
  std::size_t start = text.find_first_not_of(' ');
  return start == std::string::npos ? "" : text.substr(start);
}

// after_marker reads "MARKER(reason): explanation" from |line|.
bool after_marker(const std::string &line, const std::string &marker, Narrated &out) {
  std::size_t at = line.find(marker);
  if (at == std::string::npos)
    return false;
  std::size_t open = at + marker.size(), close = line.find("):", open);
  if (close == std::string::npos || close == open)
    return false;
  out.reason = line.substr(open, close - open);
  std::string explanation = trim_left(line.substr(close + 2));
  if (explanation.rfind('[', 0) == 0 && explanation.find("] ") != std::string::npos)
    explanation = explanation.substr(explanation.find("] ") + 2); // the tenant's name
  out.explanation = one_line(explanation);
  return true;
}

} // namespace

std::vector<Participant> chain_order(const std::vector<Participant> &participants) {
  std::map<std::string, const Participant *> by_id;
  for (const auto &participant : participants)
    by_id.emplace(participant.id, &participant);
  std::vector<Participant> ordered = participants;
  std::stable_sort(ordered.begin(), ordered.end(), [&](const auto &a, const auto &b) {
    return rank(a, by_id) < rank(b, by_id);
  });
  return ordered;
}

std::string mermaid_diagram(const std::vector<Participant> &participants,
                            const std::vector<Interaction> &interactions) {
  Drawing drawing(participants);
  bool in_setup = false;
  for (const auto &exchange : interactions) {
    if (exchange.setup != in_setup && !drawing.empty()) {
      in_setup ? drawing.close_setup() : drawing.open_setup();
      in_setup = exchange.setup;
    }
    drawing.draw(exchange);
  }
  if (in_setup)
    drawing.close_setup();
  return drawing.text();
}

Narrated read_narration(const std::string &text) {
  Narrated out;
  bool server_refusal = false;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::string body = line;
    if (body.rfind('[', 0) == 0 && body.find("] ") != std::string::npos)
      body = body.substr(body.find("] ") + 2);
    body = trim_left(body);
    if (body.rfind("\u2713 ", 0) == 0)
      out.checks.push_back(one_line(body.substr(std::string("\u2713 ").size())));
    else if (!server_refusal && after_marker(body, "\u2717 refused (", out))
      server_refusal = true; // the side that refused says it best
    else if (!server_refusal)
      after_marker(body, "error (", out);
  }
  return out;
}

std::string one_line(const std::string &text, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\033') { // a colour code: ESC [ ... letter
      while (i + 1 < text.size() && !std::isalpha(static_cast<unsigned char>(text[i + 1])))
        ++i;
      ++i;
      continue;
    }
    bool space = c == '\n' || c == '\r' || c == '\t';
    if (static_cast<unsigned char>(c) < 0x20 && !space)
      continue; // colour codes and other controls
    if (space && (out.empty() || out.back() == ' '))
      continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  if (out.size() <= limit)
    return out;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
    --cut; // not inside a UTF-8 sequence
  return out.substr(0, cut) + "\u2026";
}

} // namespace chainlab::scenario
