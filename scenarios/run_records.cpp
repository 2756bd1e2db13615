#include "scenarios/run_records.hpp"

#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"

namespace chainlab::scenario {
namespace {

using nlohmann::json;

bool misbehaves(const Scenario &scenario, const std::string &actor_id) {
  static const std::set<std::string> kMisdeeds = {"forge-certificate", "copy-identity", "enroll"};
  for (const auto &step : scenario.steps) {
    if (step.actor != actor_id)
      continue;
    bool impersonates = step.args.contains("impersonate") && step.args["impersonate"] == true;
    if (kMisdeeds.count(step.action) || impersonates || step.args.contains("publish_as"))
      return true;
  }
  return false;
}

// admission_checks: the hub's narration of an admitted device names the
// verified CA its chain ends at.
std::vector<std::string> admission_checks(const std::string &narration) {
  static const std::string kMarker = "ends at verified CA ";
  std::vector<std::string> checks;
  std::istringstream lines(narration);
  for (std::string line; std::getline(lines, line);) {
    std::size_t at = line.find(kMarker);
    if (at == std::string::npos)
      continue;
    std::string ca = line.substr(at + kMarker.size());
    checks.push_back("chain ends at verified CA " + ca.substr(0, ca.find(" (")));
  }
  return checks;
}

std::string key_location(const ActorState &actor) {
  if (std::filesystem::exists(actor.dir + "/keys/identity-key.key.pem"))
    return "PEM file keys/identity-key.key.pem in its state directory";
  if (actor.spec->backend == "pkcs11")
    return "PKCS#11 token '" + actor.spec->name + "' (SoftHSMv2): sensitive, non-extractable";
  return actor.spec->backend;
}

CertificateFacts describe(const ActorState &actor, X509 *cert) {
  CertificateFacts facts;
  facts.actor = actor.spec->id;
  facts.role = actor.spec->role;
  facts.subject = pki::subject_text(cert);
  facts.issuer = pki::issuer_text(cert);
  facts.serial = pki::serial_hex(cert);
  facts.not_before = pki::format_time(pki::not_before(cert));
  facts.not_after = pki::format_time(pki::not_after(cert));
  if (pki::is_ca(cert)) {
    auto path_len = pki::path_len(cert);
    facts.path_len = path_len ? std::to_string(*path_len) : "unlimited";
  }
  facts.key_location = key_location(actor);
  return facts;
}

bool signed_by(X509 *child, X509 *parent) {
  EVP_PKEY *key = X509_get0_pubkey(parent);
  return pki::is_ca(parent) && X509_check_issued(parent, child) == X509_V_OK && key &&
         X509_verify(child, key) == 1;
}

} // namespace

std::vector<Participant> participants_of(const Scenario &scenario) {
  std::vector<Participant> participants;
  for (const auto &actor : scenario.actors) {
    Participant participant{actor.id, actor.name, actor.role, actor.parent,
                            actor.attacker || misbehaves(scenario, actor.id)};
    if (actor.role == "hub") {
      participant.name.clear();
      for (const auto &hub : actor.hubs)
        participant.name += (participant.name.empty() ? "" : ", ") + hub;
    }
    participants.push_back(std::move(participant));
  }
  return participants;
}

void add_server_narration(std::vector<Interaction> &interactions, std::size_t first,
                          const std::map<std::string, std::string> &said) {
  for (std::size_t i = first; i < interactions.size(); ++i) {
    Interaction &exchange = interactions[i];
    auto found = said.find(exchange.to);
    if (found == said.end() || exchange.from == exchange.to)
      continue;
    Narrated server = read_narration(found->second);
    std::vector<std::string> checks = admission_checks(found->second);
    checks.insert(checks.end(), server.checks.begin(), server.checks.end());
    exchange.checks.insert(exchange.checks.begin(), checks.begin(), checks.end());
    if (exchange.refused && !server.reason.empty()) {
      exchange.reason = server.reason;
      exchange.explanation = server.explanation;
    }
  }
}

std::vector<CertificateFacts> certificate_tree(const std::vector<const ActorState *> &actors) {
  std::vector<CertificateFacts> facts;
  std::vector<ossl::Ptr<X509>> certificates;
  for (const ActorState *actor : actors) {
    std::string path = actor->dir + "/certificate.pem";
    if (actor->spec->role == "hub" || !std::filesystem::exists(path))
      continue;
    try {
      certificates.push_back(pki::parse_certificate(pki::read_file(path), path));
    } catch (const Error &) { // a forged or broken file: the report leaves it out
      continue;
    }
    facts.push_back(describe(*actor, certificates.back().get()));
  }
  for (std::size_t child = 0; child < facts.size(); ++child)
    for (std::size_t parent = 0; parent < facts.size(); ++parent)
      if (parent != child && signed_by(certificates[child].get(), certificates[parent].get()))
        facts[child].issuer_actor = facts[parent].actor;
  return facts;
}

std::vector<json> hub_events(RunContext &run, ActorState &hub, const std::string &name,
                             long after) {
  std::vector<json> events;
  for (;;) {
    auto page = json::parse(
        run.hub_api(hub, "GET", "/events?after=" + std::to_string(after), name).body, nullptr,
        false);
    if (!page.is_object() || !page.contains("events") || !page["events"].is_array())
      return events;
    for (auto &event : page["events"])
      events.push_back(std::move(event));
    long next = page.value("next", after);
    if (!page.value("more", false) || next <= after) // a page that moves nothing ends it
      return events;
    after = next;
  }
}

long last_hub_event_id(RunContext &run, ActorState &hub, const std::string &name) {
  auto page = json::parse(run.hub_api(hub, "GET", "/events?limit=0", name).body, nullptr, false);
  return page.is_object() ? page.value("lastEventId", 0L) : 0L;
}

HubRecord hub_record(RunContext &run, ActorState &hub, const std::string &name) {
  HubRecord record{name, {}, {}};
  for (const auto &event : hub_events(run, hub, name)) {
    if (!event.is_object() || event.value("reason", "").empty())
      continue;
    ++record.refusals_by_reason[event.value("reason", "")];
    record.refusals.push_back({event.value("time", ""), event.value("kind", ""),
                               event.value("reason", ""), event.value("subject", ""),
                               event.value("detail", "")});
  }
  return record;
}

} // namespace chainlab::scenario
