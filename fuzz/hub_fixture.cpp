#include "fuzz/hub_fixture.hpp"

#include "pki/encoding.hpp"

namespace chainlab::fuzz {

HubFixture::HubFixture() {
  registry = std::make_unique<registry::HubRegistry>(dir.file("hub.db"));
  // Refusals are events; keep their number bounded over millions of runs.
  registry->set_event_retention(100);
  token = registry->create_hub("fuzz");
  registration = std::make_unique<hub::CaRegistration>(*registry, narrator);
  trust = std::make_unique<hub::TrustStore>(*registry);
  context = std::make_unique<hub::ServiceContext>(
      hub::ServiceContext{*registry, *registration, *trust, nullptr, nullptr});
  registration->upload("fuzz", "company-x", pki::to_pem(company.certificate.get()))
      .take_or_throw();
}

HubFixture &hub_fixture() {
  // Inputs create CAs, devices and rules that every later input lists (the
  // live page's state lists them all): a fresh hub every kInputsPerHub
  // inputs keeps a long run's speed flat instead of falling with its age.
  static std::unique_ptr<HubFixture> fixture;
  static std::size_t uses = 0;
  if (!fixture || ++uses % kInputsPerHub == 0) {
    fixture.reset();
    fixture = std::make_unique<HubFixture>();
  }
  return *fixture;
}

} // namespace chainlab::fuzz
