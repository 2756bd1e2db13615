#include "bench_pki.hpp"

#include "hsm/file_key_store.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/inspect.hpp"

namespace chainlab::bench {
namespace {

using std::chrono::hours;
using Clock = std::chrono::system_clock;

} // namespace

Ca make_ca(const Ca *issuer, const std::string &subject, std::optional<long> path_len) {
  Ca ca{nullptr, hsm::generate_software_key(hsm::KeyType::ec_p256)};
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(ca.key.get());
  plan.profile = issuer ? pki::Profile::subordinate_ca : pki::Profile::root_ca;
  plan.path_len = path_len;
  plan.not_before = Clock::now() - hours(1);
  plan.not_after = Clock::now() + hours(24 * 365);
  ca.certificate = pki::sign_certificate(plan, issuer ? issuer->certificate.get() : nullptr,
                                         issuer ? issuer->key.get() : ca.key.get());
  return ca;
}

Ca make_leaf(const Ca &issuer, const std::string &subject, pki::Profile profile) {
  Ca leaf{nullptr, hsm::generate_software_key(hsm::KeyType::ec_p256)};
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(leaf.key.get());
  plan.profile = profile;
  plan.not_before = Clock::now() - hours(1);
  plan.not_after = Clock::now() + hours(24 * 30);
  leaf.certificate = pki::sign_certificate(plan, issuer.certificate.get(), issuer.key.get());
  return leaf;
}

SeedChain::SeedChain()
    : company(make_ca(nullptr, "CN=Company-X", std::nullopt)),
      factory(make_ca(&company, "CN=Factory-Y", 1)),
      technician(make_ca(&factory, "CN=Technician-Z", 0)) {
  for (int i = 0; i < 64; ++i) {
    auto device = make_leaf(technician, "CN=widget-" + std::to_string(i), pki::Profile::device);
    devices.push_back(std::move(device.certificate));
    device_keys.push_back(std::move(device.key));
  }
  intermediates.push_back(ossl::up_ref(technician.certificate.get()));
  intermediates.push_back(ossl::up_ref(factory.certificate.get()));
  anchors.push_back({"company-x", ossl::up_ref(company.certificate.get()), true, true});
}

} // namespace chainlab::bench
