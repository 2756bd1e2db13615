// The hub's one authentication decision, as a table over snapshots: every
// outcome with its reason, without sockets or a database.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/protocol_codes.hpp"
#include "hub/authenticate.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using std::chrono::hours;
using testing::TestCa;

ossl::Ptr<X509> issue(const TestCa &issuer, const std::string &subject, EVP_PKEY *key,
                      hours from = hours(-1), hours until = hours(24)) {
  return testing::issue_leaf(issuer, subject, key, pki::Profile::device, from, until);
}

registry::CaRecord ca_record(const std::string &name, const TestCa &ca, bool verified = true,
                             bool enabled = true) {
  registry::CaRecord record;
  record.name = name;
  record.certificate_pem = pki::to_pem(ca.certificate.get());
  record.verified = verified;
  record.enabled = enabled;
  return record;
}

struct Fleet {
  TestCa company = testing::make_root("CN=Company-X");
  TestCa factory = testing::make_sub_ca(company, "CN=Factory-Y", 1);
  TestCa technician = testing::make_sub_ca(factory, "CN=Technician-Z", 0);
  TestCa technician_w = testing::make_sub_ca(factory, "CN=Technician-W", 0);
  TestCa other_root = testing::make_root("CN=Other-Co");
  ossl::Ptr<EVP_PKEY> key = testing::make_key();
  ossl::Ptr<X509> widget = issue(technician, "CN=widget-001", key.get());

  hub::TenantSnapshot snapshot(std::vector<registry::CaRecord> cas) const {
    hub::TenantSnapshot snapshot;
    snapshot.hub = "contoso";
    snapshot.cas = hub::CaTrust::from(cas);
    return snapshot;
  }
  hub::TenantSnapshot standard() const {
    return snapshot({ca_record("company-x", company), ca_record("other", other_root)});
  }
  pki::CertList chain_of(const TestCa &issuer) const {
    pki::CertList chain;
    chain.push_back(ossl::up_ref(issuer.certificate.get()));
    chain.push_back(ossl::up_ref(factory.certificate.get()));
    return chain;
  }
  Result<hub::AuthenticatedDevice> authenticate(const hub::TenantSnapshot &snapshot, X509 *leaf,
                                                const TestCa &issuer) const {
    return hub::authenticate_device(snapshot, leaf, chain_of(issuer),
                                    std::chrono::system_clock::now());
  }
  // registered: the snapshot after widget-001's first connection.
  hub::TenantSnapshot registered(hub::TenantSnapshot snapshot) const {
    auto first = authenticate(snapshot, widget.get(), technician);
    EXPECT_TRUE(first.ok());
    auto record = first.value().device;
    record.hub = "contoso";
    snapshot.devices = snapshot.devices.with(record);
    return snapshot;
  }
};

const Fleet &fleet() {
  static const Fleet instance;
  return instance;
}

Reason refusal_of(const Result<hub::AuthenticatedDevice> &result) {
  EXPECT_FALSE(result.ok());
  return result.ok() ? Reason::internal_error : result.error().reason();
}

TEST(Authenticate, FirstConnectionUnderAVerifiedCaRegisters) {
  const auto &f = fleet();
  auto result = f.authenticate(f.standard(), f.widget.get(), f.technician);
  ASSERT_TRUE(result.ok()) << result.error().what();
  EXPECT_EQ(result.value().binding, hub::Binding::new_device);
  EXPECT_EQ(result.value().device.ca_name, "company-x");
  EXPECT_EQ(result.value().device.issuer_subject, "CN=Technician-Z");
  EXPECT_EQ(result.value().device.issuer_key,
            pki::key_fingerprint(X509_get0_pubkey(f.technician.certificate.get())));
}

TEST(Authenticate, ChainReasonsComeFromChainValidation) {
  const auto &f = fleet();
  EXPECT_EQ(refusal_of(hub::authenticate_device(f.standard(), f.widget.get(), {},
                                                std::chrono::system_clock::now())),
            Reason::issuer_missing);
  auto unverified = f.snapshot({ca_record("company-x", f.company, false)});
  EXPECT_EQ(refusal_of(f.authenticate(unverified, f.widget.get(), f.technician)),
            Reason::ca_unverified);
  auto disabled = f.snapshot({ca_record("company-x", f.company, true, false)});
  EXPECT_EQ(refusal_of(f.authenticate(disabled, f.widget.get(), f.technician)),
            Reason::ca_disabled);
  auto expired = issue(f.technician, "CN=widget-009", f.key.get(), hours(-48), hours(-24));
  EXPECT_EQ(refusal_of(f.authenticate(f.standard(), expired.get(), f.technician)),
            Reason::cert_expired);
  auto bad_id = issue(f.technician, "CN=widget 001", f.key.get());
  EXPECT_EQ(refusal_of(f.authenticate(f.standard(), bad_id.get(), f.technician)),
            Reason::invalid_device_id);
}

TEST(Authenticate, SameCertificateReconnects) {
  const auto &f = fleet();
  auto result = f.authenticate(f.registered(f.standard()), f.widget.get(), f.technician);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value().binding, hub::Binding::same_certificate);
}

TEST(Authenticate, AnotherTechnicianCannotTakeOverUnderTheDefaultPolicy) {
  const auto &f = fleet();
  auto twin_key = testing::make_key();
  auto duplicate = issue(f.technician_w, "CN=widget-001", twin_key.get());
  auto result = f.authenticate(f.registered(f.standard()), duplicate.get(), f.technician_w);
  EXPECT_EQ(refusal_of(result), Reason::identity_conflict);
  EXPECT_NE(result.error().detail().find("CN=Technician-Z"), std::string::npos);
  EXPECT_NE(result.error().detail().find("CN=Technician-W"), std::string::npos);
}

TEST(Authenticate, RenewalBySameIssuerIsACertificateChange) {
  const auto &f = fleet();
  auto new_key = testing::make_key();
  auto renewed = issue(f.technician, "CN=widget-001", new_key.get());
  auto result = f.authenticate(f.registered(f.standard()), renewed.get(), f.technician);
  ASSERT_TRUE(result.ok()) << result.error().what();
  EXPECT_EQ(result.value().binding, hub::Binding::certificate_change);
  EXPECT_EQ(result.value().previous_thumbprint, pki::sha256_fingerprint(f.widget.get()));
}

TEST(Authenticate, CertificateChangePolicies) {
  const auto &f = fleet();
  auto new_key = testing::make_key();
  auto renewed = issue(f.technician, "CN=widget-001", new_key.get());
  auto other = issue(f.technician_w, "CN=widget-001", new_key.get());
  for (auto [policy, renewal_ok, other_ok] :
       {std::tuple{"any", true, true}, std::tuple{"same-issuer", true, false},
        std::tuple{"pinned", false, false}}) {
    auto record = ca_record("company-x", f.company);
    record.certificate_change = policy;
    auto snapshot = f.registered(f.snapshot({record}));
    auto renewal = f.authenticate(snapshot, renewed.get(), f.technician);
    auto takeover = f.authenticate(snapshot, other.get(), f.technician_w);
    EXPECT_EQ(renewal.ok(), renewal_ok) << policy;
    EXPECT_EQ(takeover.ok(), other_ok) << policy;
    if (!renewal_ok) {
      EXPECT_EQ(refusal_of(renewal), Reason::identity_conflict) << policy;
    }
    if (!other_ok) {
      EXPECT_EQ(refusal_of(takeover), Reason::identity_conflict) << policy;
    }
  }
}

TEST(Authenticate, ThumbprintDeviceOnlyByItsThumbprint) {
  const auto &f = fleet();
  auto own_key = testing::make_key();
  auto self_signed = testing::make_root("CN=sensor-7"); // no CA at the hub
  auto impostor = issue(f.technician, "CN=sensor-7", own_key.get());
  auto snapshot = f.standard();
  registry::DeviceRecord record;
  record.device_id = "sensor-7";
  record.registration = "thumbprint";
  record.thumbprint = pki::sha256_fingerprint(self_signed.certificate.get());
  snapshot.devices = snapshot.devices.with(record);
  auto own = hub::authenticate_device(snapshot, self_signed.certificate.get(), {},
                                      std::chrono::system_clock::now());
  ASSERT_TRUE(own.ok()) << own.error().what();
  EXPECT_EQ(own.value().authentication, "thumbprint");
  EXPECT_EQ(refusal_of(f.authenticate(snapshot, impostor.get(), f.technician)),
            Reason::identity_conflict);
}

TEST(Authenticate, DisabledDeviceAndOnboardingPolicies) {
  const auto &f = fleet();
  auto snapshot = f.registered(f.standard());
  auto record = *snapshot.devices.find("widget-001");
  record.enabled = false;
  snapshot.devices = snapshot.devices.with(record);
  EXPECT_EQ(refusal_of(f.authenticate(snapshot, f.widget.get(), f.technician)),
            Reason::device_disabled);
  auto ca = ca_record("company-x", f.company);
  ca.onboarding = "pre-registered";
  EXPECT_EQ(refusal_of(f.authenticate(f.snapshot({ca}), f.widget.get(), f.technician)),
            Reason::device_not_registered);
  ca.onboarding = "approval";
  auto pending = f.authenticate(f.snapshot({ca}), f.widget.get(), f.technician);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending.value().device.approved);
}

TEST(Authenticate, DisabledIntermediateRefusesDevicesItSignsLater) {
  const auto &f = fleet();
  auto snapshot = f.standard();
  std::string key = pki::key_fingerprint(X509_get0_pubkey(f.technician.certificate.get()));
  snapshot.disabled_intermediates = {{"CN=Technician-Z", key}};
  auto later = issue(f.technician, "CN=widget-050", f.key.get());
  auto result = f.authenticate(snapshot, later.get(), f.technician);
  EXPECT_EQ(refusal_of(result), Reason::intermediate_disabled);
  EXPECT_NE(result.error().detail().find("CN=Technician-Z"), std::string::npos);
  // Factory-Y's other technician is not under the rule.
  auto sibling = issue(f.technician_w, "CN=widget-060", f.key.get());
  EXPECT_TRUE(f.authenticate(snapshot, sibling.get(), f.technician_w).ok());
  // The rule is keyed by the key: another Technician-Z key is not it.
  snapshot.disabled_intermediates = {{"CN=Technician-Z", std::string(64, '0')}};
  EXPECT_TRUE(f.authenticate(snapshot, later.get(), f.technician).ok());
}

TEST(Authenticate, StillAdmittedFollowsOperatorChanges) {
  const auto &f = fleet();
  auto snapshot = f.registered(f.standard());
  auto connected = *snapshot.devices.find("widget-001");
  EXPECT_FALSE(hub::still_admitted(snapshot, connected));
  auto disabled = snapshot;
  auto record = connected;
  record.enabled = false;
  disabled.devices = disabled.devices.with(record);
  EXPECT_EQ(hub::still_admitted(disabled, connected)->reason(), Reason::device_disabled);
  auto deleted = snapshot;
  deleted.devices = deleted.devices.without("widget-001");
  EXPECT_EQ(hub::still_admitted(deleted, connected)->reason(), Reason::device_not_registered);
  auto ca_off = snapshot;
  ca_off.cas = hub::CaTrust::from({ca_record("company-x", f.company, true, false)});
  EXPECT_EQ(hub::still_admitted(ca_off, connected)->reason(), Reason::ca_disabled);
  auto rule = snapshot;
  rule.disabled_intermediates = {{"CN=Technician-Z", ""}};
  EXPECT_EQ(hub::still_admitted(rule, connected)->reason(), Reason::intermediate_disabled);
}

TEST(DeviceTable, CopyOnWriteLeavesOlderSnapshotsAlone) {
  hub::DeviceTable empty;
  registry::DeviceRecord record;
  record.device_id = "widget-001";
  auto one = empty.with(record);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_TRUE(one.find("widget-001"));
  EXPECT_FALSE(empty.find("widget-001"));
  EXPECT_EQ(one.without("widget-001").size(), 0u);
}

registry::DeviceRecord device_named(const std::string &id, const std::string &ca = "company-x") {
  registry::DeviceRecord record;
  record.device_id = id;
  record.ca_name = ca;
  return record;
}

// Enough devices to fill many shards of both levels: a table built at once
// and one grown device by device hold the same, and each change leaves the
// table it came from as it was.
TEST(DeviceTable, BuiltAtOnceOrGrownItHoldsEveryDeviceOnce) {
  std::vector<registry::DeviceRecord> fleet;
  hub::DeviceTable grown;
  for (int n = 0; n < 5000; ++n) {
    fleet.push_back(device_named("fleet-" + std::to_string(n)));
    grown = grown.with(fleet.back());
  }
  auto built = hub::DeviceTable::from(fleet);
  EXPECT_EQ(built.size(), 5000u);
  EXPECT_EQ(grown.size(), 5000u);
  for (int n = 0; n < 5000; n += 7) {
    std::string id = "fleet-" + std::to_string(n);
    ASSERT_TRUE(built.find(id)) << id;
    ASSERT_TRUE(grown.find(id)) << id;
    EXPECT_EQ(built.find(id)->device_id, id);
  }
  EXPECT_FALSE(built.find("fleet-5000"));
  auto replaced = built.with(device_named("fleet-42", "factory-y"));
  EXPECT_EQ(replaced.size(), 5000u); // the same device again: replaced, not added
  EXPECT_EQ(replaced.find("fleet-42")->ca_name, "factory-y");
  EXPECT_EQ(built.find("fleet-42")->ca_name, "company-x");
  auto fewer = replaced.without("fleet-42").without("fleet-42").without("no-such-device");
  EXPECT_EQ(fewer.size(), 4999u);
  EXPECT_FALSE(fewer.find("fleet-42"));
  EXPECT_TRUE(replaced.find("fleet-42"));
  EXPECT_TRUE(fewer.find("fleet-43"));
}

} // namespace
} // namespace chainlab

namespace chainlab {
namespace {

registry::CaRecord logged(registry::CaRecord record, std::vector<const TestCa *> logs) {
  record.onboarding = "logged";
  nlohmann::json list = nlohmann::json::array();
  for (const auto *ca : logs)
    list.push_back({{"url", "https://127.0.0.1:4443"},
                    {"certificate", pki::to_pem(ca->certificate.get())}});
  record.logs = list.dump();
  return record;
}

TEST(Authenticate, LoggedOnboardingNamesTheIssuersLog) {
  const auto &f = fleet();
  auto snapshot = f.snapshot({logged(ca_record("company-x", f.company), {&f.factory, &f.technician})});
  auto result = f.authenticate(snapshot, f.widget.get(), f.technician);
  ASSERT_TRUE(result.ok()) << result.error().what();
  ASSERT_TRUE(result.value().required_log);
  EXPECT_EQ(result.value().required_log->subject, "CN=Technician-Z");
  EXPECT_EQ(result.value().certificate_der, pki::to_der(f.widget.get()));
  // A reconnection with the registered certificate was proven before.
  auto again = f.authenticate(f.registered(snapshot), f.widget.get(), f.technician);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().binding, hub::Binding::same_certificate);
  EXPECT_FALSE(again.value().required_log);
  EXPECT_TRUE(again.value().certificate_der.empty());
}

TEST(Authenticate, LoggedOnboardingRefusesAnIssuerWithoutALog) {
  const auto &f = fleet();
  auto snapshot = f.snapshot({logged(ca_record("company-x", f.company), {&f.factory})});
  auto result = f.authenticate(snapshot, f.widget.get(), f.technician);
  EXPECT_EQ(refusal_of(result), Reason::not_in_log);
  EXPECT_NE(result.error().detail().find("CN=Technician-Z"), std::string::npos);
  EXPECT_TRUE(answered_after_tls(Reason::not_in_log));
}

TEST(Authenticate, OtherPoliciesNeedNoLog) {
  const auto &f = fleet();
  auto result = f.authenticate(f.standard(), f.widget.get(), f.technician);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result.value().required_log);
  EXPECT_FALSE(result.value().certificate_der.empty()) << "kept for auditors";
}

TEST(Authenticate, JudgeInclusionMapsTheLogsAnswer) {
  hub::LogRegistration log;
  log.url = "https://127.0.0.1:4443";
  EXPECT_FALSE(hub::judge_inclusion("widget-001", "CN=Technician-Z", log, std::nullopt));
  auto absent = hub::judge_inclusion("widget-666", "CN=Technician-Z", log,
                                     Error(Reason::not_in_log, "no such certificate"));
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->reason(), Reason::not_in_log);
  for (const char *named : {"widget-666", "CN=Technician-Z", "https://127.0.0.1:4443"})
    EXPECT_NE(absent->detail().find(named), std::string::npos) << named;
  auto down = hub::judge_inclusion("widget-001", "CN=Technician-Z", log,
                                   Error(Reason::log_unavailable, "connection refused"));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason(), Reason::log_unavailable);
  EXPECT_EQ(connack_code(Reason::log_unavailable), 3);
  EXPECT_EQ(connack_code(Reason::not_in_log), 5);
}

} // namespace
} // namespace chainlab
