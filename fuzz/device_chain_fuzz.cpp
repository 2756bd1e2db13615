// A device's presented chain as the hub reads it: certificate keys decoded
// by OpenSSL's built-in EC method (ossl/ec_key_decoding, as in `hub serve`),
// each certificate's signature checked with the next one's key, and the
// whole chain validated up to its last certificate taken as a verified CA.
// Hostile keys (explicit curve parameters, points off the curve, odd sizes)
// must be refused, never end the process. The chain is then presented once
// more, parsed afresh as a handshake's would be, to the validator that
// judged it: a cached verdict must be the full path's.
#include <chrono>

#include <openssl/err.h>

#include "fuzz/fuzz_input.hpp"
#include "ossl/ec_key_decoding.hpp"
#include "pki/chain_validation.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"

using namespace chainlab;

namespace {

pki::CertList reparsed(const pki::CertList &certificates) {
  pki::CertList out;
  for (const auto &cert : certificates) {
    auto parsed = pki::parse_certificates(pki::to_der(cert.get()), "fuzz input, reparsed");
    fuzz::require(parsed.size() == 1, "a certificate that parsed does not parse again");
    out.push_back(std::move(parsed[0]));
  }
  return out;
}

void require_same(const Result<pki::ValidatedChain> &first,
                  const Result<pki::ValidatedChain> &again) {
  fuzz::require(first.ok() == again.ok(), "the validator's cache changed the verdict");
  if (!first.ok()) {
    fuzz::require(first.error().reason() == again.error().reason(),
                  "the validator's cache changed the reason");
    return;
  }
  fuzz::require(first.value().subjects == again.value().subjects &&
                    first.value().key_fingerprints == again.value().key_fingerprints &&
                    first.value().anchor_name == again.value().anchor_name,
                "a cached chain is described otherwise than the full path describes it");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  ossl::use_builtin_ec_key_decoding();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view bytes = fuzz::FuzzInput(data, size).all();
  pki::CertList certificates;
  try {
    certificates = pki::parse_certificates(bytes, "fuzz input");
  } catch (const Error &) {
    return 0;
  }
  if (certificates.empty())
    return 0;
  for (std::size_t i = 0; i + 1 < certificates.size(); ++i)
    if (EVP_PKEY *key = X509_get0_pubkey(certificates[i + 1].get())) {
      X509_verify(certificates[i].get(), key);
      pki::describe_key(key);
    }
  std::vector<pki::TrustAnchor> anchors(1);
  anchors[0].name = "fuzz-ca";
  anchors[0].certificate = ossl::up_ref(certificates.back().get());
  anchors[0].verified = true;
  pki::CertList presented;
  for (std::size_t i = 1; i + 1 < certificates.size(); ++i)
    presented.push_back(ossl::up_ref(certificates[i].get()));
  // A fixed instant inside the seeds' validity, so that runs repeat.
  auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  pki::ChainValidator validator;
  auto first = validator.validate(certificates.front().get(), presented, anchors, when);
  pki::CertList leaf;
  leaf.push_back(ossl::up_ref(certificates.front().get()));
  auto leaf_again = reparsed(leaf);
  auto again = validator.validate(leaf_again.front().get(), reparsed(presented), anchors, when);
  require_same(first, again);
  ERR_clear_error();
  return 0;
}
