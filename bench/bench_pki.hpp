// bench/bench_pki.hpp: the seed supply chain (Company-X, Factory-Y,
// Technician-Z and 64 devices with in-memory keys), made at run time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pki/chain_validation.hpp"
#include "pki/profile.hpp"

namespace chainlab::bench {

struct Ca {
  ossl::Ptr<X509> certificate;
  ossl::Ptr<EVP_PKEY> key;
};

Ca make_ca(const Ca *issuer, const std::string &subject, std::optional<long> path_len);
// make_leaf: an end-entity certificate (device or TLS server) and its key.
Ca make_leaf(const Ca &issuer, const std::string &subject, pki::Profile profile);

struct SeedChain {
  SeedChain();

  Ca company, factory, technician;
  std::vector<ossl::Ptr<X509>> devices;
  std::vector<ossl::Ptr<EVP_PKEY>> device_keys;
  pki::CertList intermediates; // Technician-Z, Factory-Y
  std::vector<pki::TrustAnchor> anchors;
};

} // namespace chainlab::bench
