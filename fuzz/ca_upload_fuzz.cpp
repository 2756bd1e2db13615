// The hub's CA upload and its proof-of-possession check: any bytes, as an
// uploaded CA certificate or as a verification certificate for company-x.
// A refusal is a Result with a reason, and the registry stays consistent:
// a refused upload stores nothing.
#include "fuzz/fuzz_input.hpp"
#include "fuzz/hub_fixture.hpp"

using namespace chainlab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  fuzz::HubFixture &hub = fuzz::hub_fixture();
  if (input.selector() & 1) {
    hub.registration->generate_verification_code("fuzz", "company-x").take_or_throw();
    auto verified = hub.registration->verify("fuzz", "company-x", input.rest());
    fuzz::require(!verified, "a fuzzed certificate proved possession of company-x's key");
    return 0;
  }
  auto uploaded = hub.registration->upload("fuzz", "uploaded", input.rest());
  fuzz::require(bool(uploaded) == hub.registry->find_ca("fuzz", "uploaded").has_value(),
                "the registry does not match the upload's answer");
  if (uploaded)
    hub.registration->remove("fuzz", "uploaded").take_or_throw();
  return 0;
}
