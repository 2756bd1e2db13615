// actor/enrolment.hpp: the enrolling party's side, shared by subordinate
// CAs and devices: a key made inside the actor's own store, a CSR, EST
// enrolment at the parent CA, and the certificates stored as manufacturing
// would install them.
#pragma once

#include <optional>

#include "actor/state_dir.hpp"
#include "core/narrator.hpp"
#include "est/client.hpp"
#include "pki/profile.hpp"

namespace chainlab::actor {

struct EnrolmentRequest {
  pki::Profile profile = pki::Profile::device;
  std::optional<long> path_len; // asked for by subordinate CAs only
  est::Endpoint parent;
  std::string parent_name = "the CA"; // for narration
  std::string secret;
};

// create_identity_key makes the actor's key in its own store (a new token
// when the backend is pkcs11) and records its URI in actor.json.
void create_identity_key(const StateDir &state, ActorConfig &config,
                         Narrator &narrator);

// enrol_with_secret runs simpleenroll and stores the result. A refusal is
// thrown as the CA's Error (its reason code intact).
void enrol_with_secret(const StateDir &state, ActorConfig &config,
                       const EnrolmentRequest &request, Narrator &narrator);

// reenrol renews the current certificate at the CA recorded in actor.json,
// authenticating with the current certificate and key over TLS.
void reenrol(const StateDir &state, Narrator &narrator);

} // namespace chainlab::actor
