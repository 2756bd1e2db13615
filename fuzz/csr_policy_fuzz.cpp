// CSR issuance policy: a hostile request, as PEM or DER, runs through
// every validator of plan_certificate; whatever the policy lets through is
// then actually signed, as the CA would sign it.
#include "fuzz/fuzz_input.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "pki/policy.hpp"
#include "support/test_pki.hpp"

using namespace chainlab;

namespace {

struct Issuers {
  testing::TestCa root = testing::make_root("CN=Company-X,O=Company-X", 2);
  testing::TestCa technician =
      testing::make_sub_ca(root, "CN=Technician-Z,O=Company-X", 0);
  ossl::Ptr<X509_NAME> device = pki::parse_subject("CN=widget-001");
  ossl::Ptr<X509_NAME> factory = pki::parse_subject("CN=Factory-Y,O=Company-X");
};

const Issuers &issuers() {
  static const Issuers built;
  return built;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const Issuers &ca = issuers();
  ossl::Ptr<X509_REQ> csr;
  try {
    csr = pki::parse_csr(input.rest(), "fuzz input");
  } catch (const Error &) {
    return 0;
  }
  bool subordinate = input.selector() & 1;
  pki::IssuanceRequest request;
  request.csr = csr.get();
  request.profile = subordinate ? pki::Profile::subordinate_ca : pki::Profile::device;
  request.authorised_subject = subordinate ? ca.factory.get() : ca.device.get();
  if (input.selector() & 2)
    request.path_len = input.selector() >> 2;
  const testing::TestCa &issuer = subordinate ? ca.root : ca.technician;
  auto plan = pki::plan_certificate(request, issuer.certificate.get(),
                                    std::chrono::system_clock::now());
  if (!plan)
    return 0;
  auto issued = pki::sign_certificate(plan.value(), issuer.certificate.get(), issuer.key.get());
  fuzz::require(X509_verify(issued.get(), X509_get0_pubkey(issuer.certificate.get())) == 1,
                "a certificate the policy allowed does not verify under its issuer");
  return 0;
}
