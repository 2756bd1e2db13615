// PEM/DER detection: certificates (one, several, PEM or DER), requests,
// and the private-key detector that keeps keys out of CA uploads. What
// parses is then read the way narration and the hub read it.
#include "fuzz/fuzz_input.hpp"
#include "hub/ca_registration.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"

using namespace chainlab;

namespace {

void describe(X509 *cert) {
  pki::subject_text(cert);
  pki::issuer_text(cert);
  pki::common_name(X509_get_subject_name(cert));
  pki::serial_hex(cert);
  pki::path_len(cert);
  pki::is_ca(cert);
  pki::key_fingerprint(cert);
  pki::sha256_fingerprint(cert);
  pki::format_time(pki::not_before(cert));
  pki::format_time(pki::not_after(cert));
  if (EVP_PKEY *key = X509_get0_pubkey(cert))
    pki::describe_key(key);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view bytes = fuzz::FuzzInput(data, size).all();
  hub::contains_private_key(bytes);
  try {
    for (const auto &cert : pki::parse_certificates(bytes, "fuzz input"))
      describe(cert.get());
  } catch (const Error &) {
  }
  try {
    auto csr = pki::parse_csr(bytes, "fuzz input");
    pki::subject_text(X509_REQ_get_subject_name(csr.get()));
    pki::to_der(csr.get());
  } catch (const Error &) {
  }
  return 0;
}
