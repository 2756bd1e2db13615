// EST bodies: base64, a PKCS#10 request and a certs-only PKCS#7, as the
// EST server and client decode them. What decodes must re-encode to the
// same thing.
#include "core/error.hpp"
#include "est/codec.hpp"
#include "fuzz/fuzz_input.hpp"

using namespace chainlab;

namespace {

void base64_round_trip(std::string_view body) {
  std::string decoded = pki::base64_decode(body, "fuzz input");
  fuzz::require(pki::base64_decode(pki::base64_encode(decoded), "re-encoded") == decoded,
                "base64 does not round-trip");
}

void csr_round_trip(std::string_view body) {
  auto csr = est::decode_csr(body, "fuzz input");
  std::string der = pki::to_der(csr.get());
  auto again = est::decode_csr(est::encode_csr(csr.get()), "re-encoded");
  fuzz::require(pki::to_der(again.get()) == der, "PKCS#10 does not round-trip");
}

void certs_only_round_trip(std::string_view body) {
  pki::CertList certs = est::decode_certs_only(body, "fuzz input");
  pki::CertList again = est::decode_certs_only(est::encode_certs_only(certs), "re-encoded");
  fuzz::require(again.size() == certs.size(), "certs-only PKCS#7 does not round-trip");
  for (std::size_t i = 0; i < certs.size(); ++i)
    fuzz::require(pki::to_der(again[i].get()) == pki::to_der(certs[i].get()),
                  "a certificate changed in a certs-only round trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  try {
    switch (input.selector() % 3) {
    case 0:
      base64_round_trip(input.rest());
      break;
    case 1:
      csr_round_trip(input.rest());
      break;
    default:
      certs_only_round_trip(input.rest());
    }
  } catch (const Error &) {
  }
  return 0;
}
