// device/fleet_identities.hpp: the load generator's device identities.
// Each is issued by chainlab's own technician CA through its policy and
// issuance log, then kept in <fleet>/fleet.db for reuse across runs and
// against several servers. Fleet keys are software keys kept in that file:
// a load generator cannot hold 100,000 tokens, and these identities exist
// only to measure servers.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "pki/encoding.hpp"

namespace chainlab::device {

struct FleetIdentity {
  std::string device_id;
  ossl::Ptr<X509> certificate;
  ossl::Ptr<EVP_PKEY> key;
};

struct Fleet {
  pki::CertList intermediates; // what each device presents above its leaf
  std::vector<FleetIdentity> devices;
};

// issue_fleet adds identities until the fleet holds |count| (IDs
// <prefix>0, <prefix>1, …), issued by the technician CA at
// |technician_state|. Returns how many it added; a refusal by the CA's
// policy stops it with that Error.
std::size_t issue_fleet(const std::string &fleet_dir, const std::string &technician_state,
                        std::size_t count, const std::string &prefix, std::ostream &progress);

// load_fleet reads the first |count| identities (all if 0).
Fleet load_fleet(const std::string &fleet_dir, std::size_t count);

} // namespace chainlab::device
