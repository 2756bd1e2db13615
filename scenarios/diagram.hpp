// scenarios/diagram.hpp: the sequence diagram of a run, built from what the
// actors and the hub recorded: who asked whom, what came back, why a
// refusal happened and which checks held. Pure: no processes, no files.
#pragma once

#include <string>
#include <vector>

namespace chainlab::scenario {

struct Participant {
  std::string id;     // the scenario's actor id
  std::string name;   // CA name, device ID, or the hub's tenants
  std::string role;   // hub, company, factory, technician, device
  std::string parent; // the actor that signs it ("" for roots and hubs)
  bool attacker = false;
};

struct Interaction {
  std::string from, to, what;
  bool refused = false;
  bool setup = false;       // made while the actors were set up
  std::string response;     // what came back when it succeeded
  std::string reason;       // why it was refused: a reason code
  std::string explanation;  // the refusal in one line, naming the certificate
  std::vector<std::string> checks; // key checks the answering side reported
};

// chain_order: hubs, then CAs from the root down (company, factories,
// technicians), then devices; declaration order within each rank.
std::vector<Participant> chain_order(const std::vector<Participant> &participants);

// mermaid_diagram: a Mermaid sequence diagram. Every text a scenario or an
// actor controls is escaped, so it can never become Mermaid syntax or markup.
std::string mermaid_diagram(const std::vector<Participant> &participants,
                            const std::vector<Interaction> &interactions);

// Narrated: what one actor's narration says about how its exchange ended.
struct Narrated {
  std::string reason;      // from "refused (R): ..." or "error (R): ..."
  std::string explanation; // the text after it
  std::vector<std::string> checks; // the "✓" lines, without actor and mark
};
// read_narration reads chainlab narration ("[Actor]   ✓ ...",
// "[Actor]   ✗ refused (reason): ...", "actor: error (reason): ...").
Narrated read_narration(const std::string &text);

// one_line: |text| on one line, at most |limit| bytes (cut on a UTF-8
// boundary, with an ellipsis).
std::string one_line(const std::string &text, std::size_t limit = 160);

} // namespace chainlab::scenario
