// The training view's pure parts: the diagram builder (chain order,
// responses, reason labels, escaping), narration reading, the HTML report.
#include <gtest/gtest.h>

#include <regex>

#include "scenarios/diagram.hpp"
#include "scenarios/html_report.hpp"

namespace chainlab::scenario {
namespace {

// Declared as a scenario file may list them: set-up order, not chain order.
std::vector<Participant> scrambled() {
  return {{"widget-001", "widget-001", "device", "technician-z", false},
          {"factory-y", "Factory-Y", "factory", "company-x", false},
          {"technician-z", "Technician-Z", "technician", "factory-y", false},
          {"company-x", "Company-X", "company", "", false},
          {"mallory", "mallory", "device", "factory-y", true},
          {"hub", "contoso", "hub", "", false}};
}

std::vector<std::string> lines_with(const std::string &text, const std::string &part) {
  std::vector<std::string> found;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line.find(part) != std::string::npos)
      found.push_back(line);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return found;
}

TEST(Diagram, ParticipantsInChainOrderHubFirstDevicesLast) {
  std::vector<std::string> ids;
  for (const auto &participant : chain_order(scrambled()))
    ids.push_back(participant.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"hub", "company-x", "factory-y", "technician-z",
                                           "widget-001", "mallory"}));
  auto declared = lines_with(mermaid_diagram(scrambled(), {}), "participant ");
  ASSERT_EQ(declared.size(), 6u);
  EXPECT_NE(declared[0].find("hub contoso"), std::string::npos);
  EXPECT_NE(declared[1].find("Company-X"), std::string::npos);
  EXPECT_NE(declared[2].find("Factory-Y"), std::string::npos);
  EXPECT_NE(declared[3].find("Technician-Z"), std::string::npos);
  EXPECT_NE(declared[5].find("mallory (attacker)"), std::string::npos);
  EXPECT_EQ(declared[4].find("attacker"), std::string::npos);
}

TEST(Diagram, TellsApartActorsThatClaimOneName) {
  std::vector<Participant> two = {{"factory-y", "Factory-Y", "factory", "company-x", false},
                                  {"rogue-factory", "Factory-Y", "company", "", true},
                                  {"company-x", "Company-X", "company", "", false}};
  std::string diagram = mermaid_diagram(two, {});
  EXPECT_EQ(lines_with(diagram, "Factory-Y [factory-y]").size(), 1u);
  EXPECT_EQ(lines_with(diagram, "Factory-Y (attacker) [rogue-factory]").size(), 1u);
  EXPECT_EQ(lines_with(diagram, "Company-X [").size(), 0u);
}

TEST(Diagram, DrawsEachResponseAndTheChecksBehindIt) {
  Interaction connect{"widget-001", "hub", "MQTT CONNECT", false, false, "CONNACK 0: accepted",
                      "", "", {"chain ends at verified CA Company-X"}};
  std::string diagram = mermaid_diagram(scrambled(), {connect});
  EXPECT_EQ(lines_with(diagram, "P4->>P0: MQTT CONNECT").size(), 1u);
  EXPECT_EQ(lines_with(diagram, "P0-->>P4: CONNACK 0: accepted").size(), 1u);
  EXPECT_EQ(lines_with(diagram, "Note over P0: \u2713 chain ends at verified CA Company-X").size(), 1u);
  // The response comes after the request and its checks.
  EXPECT_LT(diagram.find("P4->>P0"), diagram.find("Note over P0"));
  EXPECT_LT(diagram.find("Note over P0"), diagram.find("P0-->>P4"));
}

TEST(Diagram, LabelsEveryRefusalWithItsReasonAndExplanation) {
  Interaction refused{"widget-001", "hub", "MQTT CONNECT", true, false, "CONNACK 0: accepted",
                      "issuer_missing", "no certificate for issuer CN=Factory-Y, which signed "
                      "certificate CN=widget-001 (at depth 0)", {}};
  std::string diagram = mermaid_diagram(scrambled(), {refused});
  auto request = lines_with(diagram, "P4-xP0: ");
  ASSERT_EQ(request.size(), 1u);
  EXPECT_NE(request[0].find("issuer_missing"), std::string::npos);
  auto answer = lines_with(diagram, "P0--xP4: ");
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_NE(answer[0].find("issuer_missing: no certificate for issuer CN=Factory-Y"), std::string::npos);
  EXPECT_NE(answer[0].find("CN=widget-001 (at depth 0)"), std::string::npos);
  EXPECT_TRUE(lines_with(diagram, "CONNACK 0").empty()); // no success drawn for a refusal
}

TEST(Diagram, GroupsTheSetUp) {
  Interaction enrol{"factory-y", "company-x", "EST simpleenroll", false, true, "certificate issued",
                    "", "", {}};
  Interaction step{"company-x", "hub", "register CA", false, false, "Verified", "", "", {}};
  std::string diagram = mermaid_diagram(scrambled(), {enrol, enrol, step});
  ASSERT_EQ(lines_with(diagram, "rect ").size(), 1u);
  size_t open = diagram.find("rect "), close = diagram.find("  end\n");
  EXPECT_LT(open, diagram.find("P2->>P1"));
  EXPECT_LT(diagram.rfind("P2->>P1"), close);
  EXPECT_GT(diagram.find("P1->>P0"), close);
}

TEST(Diagram, EscapesWhatActorsControl) {
  std::vector<Participant> hostile = {{"hub", "h", "hub", "", false},
                                      {"ca", "Evil<script>alert(1)</script>;\nend", "company", "", false}};
  Interaction exchange{"ca", "hub", "upload <img src=x onerror=alert(1)>", true, false, "",
                       "not_verified", "name \"x\"; # 100% `y`", {}};
  std::string diagram = mermaid_diagram(hostile, {exchange});
  for (const char *raw : {"<script", "<img", "\nend", "\"", "`", "%"})
    EXPECT_EQ(diagram.find(raw), std::string::npos) << raw;
  std::string without_entities = std::regex_replace(diagram, std::regex("#[a-z0-9]+;"), "");
  EXPECT_EQ(without_entities.find(';'), std::string::npos); // Mermaid reads ";" as a line break
  EXPECT_NE(diagram.find("Evil#lt;script#gt;alert(1)#lt;/script#gt;#59; end"), std::string::npos);
}

TEST(Narration, ReadsChecksAndPrefersTheRefusingServersReason) {
  Narrated read = read_narration(
      "[hub] <- 127.0.0.1:4: GET /x\n"
      "[Factory-Y]   \u2713 subject CN=widget-001 is the one authorised\n"
      "device: error (peer_refused): the hub refused the connection\n"
      "[hub]   \u2717 refused (issuer_missing): [contoso] no certificate for issuer CN=Factory-Y\n");
  EXPECT_EQ(read.reason, "issuer_missing");
  EXPECT_EQ(read.explanation, "no certificate for issuer CN=Factory-Y");
  ASSERT_EQ(read.checks.size(), 1u);
  EXPECT_EQ(read.checks[0], "subject CN=widget-001 is the one authorised");
  Narrated client = read_narration("device: error (secret_used): the secret was used\n");
  EXPECT_EQ(client.reason, "secret_used");
}

TEST(Narration, OneLineDropsColoursAndCutsOnCharacters) {
  EXPECT_EQ(one_line("\033[1mbold\033[0m\nnext"), "bold next");
  std::string cut = one_line("\u2713\u2713\u2713", 4); // 3 bytes each: cut after one
  EXPECT_EQ(cut, "\u2713\u2026");
}

TEST(HtmlReport, FoldsTheTranscriptByActor) {
  auto folded = fold_transcript("\033[1m== step 1\033[0m\n[hub] a\n[Company-X] b\n[hub] c\n");
  ASSERT_EQ(folded.size(), 3u);
  EXPECT_EQ(folded[0], (std::pair<std::string, std::string>{"runner", "== step 1\n"}));
  EXPECT_EQ(folded[1], (std::pair<std::string, std::string>{"hub", "[hub] a\n[hub] c\n"}));
  EXPECT_EQ(folded[2].first, "Company-X");
}

TEST(HtmlReport, TheTrustTreeFollowsSignaturesNotNames) {
  RunResult run;
  auto cert = [](const char *actor, const char *subject, const char *issuer, const char *path_len,
                 const char *issuer_actor) {
    CertificateFacts facts{actor, "x", subject, issuer, "01", "a", "b", path_len, "token"};
    facts.issuer_actor = issuer_actor;
    return facts;
  };
  run.certificates = {cert("company-x", "CN=Company-X", "CN=Company-X", "unlimited", ""),
                      cert("factory-y", "CN=Factory-Y", "CN=Company-X", "1", "company-x"),
                      cert("rogue", "CN=Factory-Y", "CN=Factory-Y", "unlimited", ""),
                      cert("widget-real", "CN=widget-real", "CN=Factory-Y", "", "factory-y"),
                      cert("widget-rogue", "CN=widget-rogue", "CN=Factory-Y", "", "rogue")};
  std::string page = html_report(run, "");
  auto section = [&](const char *from, const char *to) {
    size_t start = page.find(from);
    return page.substr(start, page.find(to, start) - start);
  };
  // Each device once, under the CA whose key signed it.
  std::string real = section("(x factory-y)", "(x rogue)");
  EXPECT_NE(real.find("CN=widget-real"), std::string::npos);
  EXPECT_EQ(real.find("CN=widget-rogue"), std::string::npos);
  std::string rogue = section("(x rogue)", "</div>\n<h2>");
  EXPECT_NE(rogue.find("CN=widget-rogue"), std::string::npos);
  EXPECT_EQ(rogue.find("CN=widget-real"), std::string::npos);
}

TEST(HtmlReport, RecordedTextIsNeverMarkupAndOnlyItsOwnScriptsMayRun) {
  RunResult run;
  run.scenario = "x<script>alert(1)</script>";
  run.participants = {{"ca", "CA<img src=x onerror=alert(1)>", "company", "", false}};
  run.certificates = {{"ca", "company", "CN=<script>alert(2)</script>", "CN=<b>", "01", "a", "b",
                       "unlimited", "token"}};
  run.hubs = {{"contoso", {{"not_verified", 1}}, {{"t", "refused", "not_verified", "<img src=y>", "d"}}}};
  run.transcript = "[hub] telemetry {\"v\":\"<img src=z onerror=alert(3)>\"}\n";
  std::string page = html_report(run, "var mermaid = {}; // </script><script>alert(4)</script>");
  std::string recorded = page.substr(0, page.find("<script>")); // all but the two scripts
  for (const char *raw : {"<script", "<img", "<b>alert", "=<b>"})
    EXPECT_EQ(recorded.find(raw), std::string::npos) << raw;
  EXPECT_EQ(page.find("</script><script>alert(4)"), std::string::npos); // the bundle stays one script
  EXPECT_NE(page.find("<\\/script><script>alert(4)"), std::string::npos);
  EXPECT_NE(page.find("CN=&lt;script&gt;alert(2)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("CN=&lt;b&gt;"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=z onerror=alert(3)&gt;"), std::string::npos);
  EXPECT_NE(page.find("script-src 'sha256-"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos); // nothing loaded from anywhere
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

} // namespace
} // namespace chainlab::scenario
