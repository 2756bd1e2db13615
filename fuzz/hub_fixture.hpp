// fuzz/hub_fixture.hpp: a hub for many fuzz inputs: a registry in a
// private directory, CA registration, the trust store and the service API,
// with tenant "fuzz" and a registered (unverified) CA "company-x".
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "hub/service_api.hpp"
#include "support/test_pki.hpp"

namespace chainlab::fuzz {

struct HubFixture {
  HubFixture();

  testing::TempDir dir;
  std::ostream quiet{nullptr}; // narration goes nowhere
  Narrator narrator{"hub", quiet};
  std::unique_ptr<registry::HubRegistry> registry;
  std::unique_ptr<hub::CaRegistration> registration;
  std::unique_ptr<hub::TrustStore> trust;
  std::unique_ptr<hub::ServiceContext> context;
  std::string token;
  testing::TestCa company = testing::make_root("CN=Company-X,O=Company-X", 2);
};

// hub_fixture: built on first use, built afresh every kInputsPerHub uses;
// do not keep a reference across inputs.
inline constexpr std::size_t kInputsPerHub = 5000;
HubFixture &hub_fixture();

} // namespace chainlab::fuzz
