// scenarios/run_records.hpp: what a run keeps for its reports beyond pass
// and fail: the participants, what the servers said about each exchange,
// each actor's certificate and what each hub recorded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/run_context.hpp"

namespace chainlab::scenario {

// participants_of: every actor; an actor is an attacker when the file says
// so or when one of its steps misbehaves (forges, copies an identity,
// enrols without a valid secret, impersonates, publishes as another).
std::vector<Participant> participants_of(const Scenario &scenario);

// add_server_narration adds what each answering server narrated (|said|,
// by actor id) to interactions[first...]: its checks, and, for a refusal,
// its reason, which is more precise than what the requester could tell.
void add_server_narration(std::vector<Interaction> &interactions, std::size_t first,
                          const std::map<std::string, std::string> &said);

// certificate_tree: each actor's current certificate (actors without one,
// or with a broken one, are left out), each linked to the actor whose key
// signed it, checked by signature: two CAs may share a subject name.
std::vector<CertificateFacts> certificate_tree(const std::vector<const ActorState *> &actors);

// hub_record: the refusals hub |name| recorded, read through its API.
HubRecord hub_record(RunContext &run, ActorState &hub, const std::string &name);
// hub_events: hub |name|'s events after |after|, oldest first, read page by
// page through its API; a malformed page ends the reading.
std::vector<nlohmann::json> hub_events(RunContext &run, ActorState &hub, const std::string &name,
                                       long after = 0);
// last_hub_event_id: the id of hub |name|'s newest event (0 if none).
long last_hub_event_id(RunContext &run, ActorState &hub, const std::string &name);

} // namespace chainlab::scenario
