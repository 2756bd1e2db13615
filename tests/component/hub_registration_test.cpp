// CA registration at the hub, through the real service API handler and a
// real SQLite registry, in process: upload, verification code, proof of
// possession, and the attacks on them. Each refusal asserts its reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "core/clock.hpp"
#include "hub/hub_actor.hpp"
#include "hub/service_api.hpp"
#include "pki/inspect.hpp"
#include "pki/policy.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using nlohmann::json;

std::string key_pem(EVP_PKEY *key) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(size));
}

std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class HubRegistration : public ::testing::Test {
protected:
  void SetUp() override {
    registry_ = std::make_unique<registry::HubRegistry>(dir_.file("hub.db"));
    registration_ = std::make_unique<hub::CaRegistration>(*registry_, narrator_, policy_);
    contoso_token_ = registry_->create_hub("contoso");
    attacker_token_ = registry_->create_hub("attacker");
  }

  HttpResponse call(const std::string &method, const std::string &path, const json &body = nullptr,
                    const std::string &hub = "contoso") {
    const std::string &token = hub == "contoso" ? contoso_token_ : attacker_token_;
    hub::TrustStore trust(*registry_);
    hub::ServiceContext context{*registry_, *registration_, trust, nullptr, nullptr};
    return hub::handle_service_request(
        context,
        {method, "/hubs/" + hub + path, {{"Authorization", "Bearer " + token}},
         body.is_null() ? "" : body.dump()});
  }
  HttpResponse upload(const std::string &pem, const std::string &hub = "contoso",
                      const std::string &name = "company-x") {
    return call("PUT", "/certificates/" + name, {{"certificate", pem}}, hub);
  }
  std::string code(const std::string &hub = "contoso", const std::string &name = "company-x") {
    auto response = call("POST", "/certificates/" + name + "/generateVerificationCode", nullptr, hub);
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body).value("verificationCode", "");
  }
  // proof signs a verification certificate for |code| with |signer|.
  std::string proof(const std::string &code, const testing::TestCa &signer) {
    pki::CertificatePlan plan;
    plan.subject = pki::parse_subject("CN=" + code);
    plan.public_key = testing::make_key();
    plan.profile = pki::Profile::verification;
    plan.not_before = now() - std::chrono::minutes(1);
    plan.not_after = now() + std::chrono::hours(1);
    return pki::to_pem(pki::sign_certificate(plan, signer.certificate.get(), signer.key.get()).get());
  }
  HttpResponse verify(const std::string &pem, const std::string &hub = "contoso",
                      const std::string &name = "company-x") {
    return call("POST", "/certificates/" + name + "/verify", {{"certificate", pem}}, hub);
  }
  std::string status(const std::string &hub = "contoso", const std::string &name = "company-x") {
    return json::parse(call("GET", "/certificates/" + name, nullptr, hub).body).value("status", "");
  }
  void expect_refused(const HttpResponse &response, Reason reason, const std::string &hub = "contoso") {
    EXPECT_GE(response.status, 400) << response.body;
    EXPECT_EQ(response.header("X-Chainlab-Reason"), to_string(reason)) << response.body;
    auto events = registry_->events(hub);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().reason, to_string(reason)) << "the refusal was not recorded as an event";
  }

  testing::TempDir dir_;
  std::ostringstream transcript_;
  Narrator narrator_{"hub", transcript_};
  hub::RegistrationPolicy policy_;
  std::unique_ptr<registry::HubRegistry> registry_;
  std::unique_ptr<hub::CaRegistration> registration_;
  std::string contoso_token_, attacker_token_;
  testing::TestCa company_ = testing::make_root("CN=Company-X");
  std::string company_pem_ = pki::to_pem(company_.certificate.get());
};

TEST_F(HubRegistration, OwnerUploadsAndProvesPossession) {
  auto uploaded = upload(company_pem_);
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  EXPECT_EQ(json::parse(uploaded.body)["status"], "Unverified");
  std::string c = code();
  EXPECT_GE(c.size() * 4, 128u) << "a verification code needs at least 128 bits";
  auto verified = verify(proof(c, company_));
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(json::parse(verified.body)["status"], "Verified");
  // It persists: a fresh registry on the same file sees it Verified.
  registry::HubRegistry reopened(dir_.file("hub.db"));
  EXPECT_TRUE(reopened.find_ca("contoso", "company-x")->verified);
}

TEST_F(HubRegistration, StolenCaCertificateStaysUnverifiedOnAttackersHub) {
  ASSERT_EQ(upload(company_pem_, "attacker", "stolen").status, 201);
  std::string c = code("attacker", "stolen");
  // The attacker has the certificate but not the key: it signs with its own.
  auto rogue = testing::make_root("CN=Company-X");
  expect_refused(verify(proof(c, rogue), "attacker", "stolen"), Reason::pop_failed, "attacker");
  // A self-signed certificate with the right CN proves nothing either.
  auto self_made = testing::make_root("CN=" + c);
  expect_refused(verify(pki::to_pem(self_made.certificate.get()), "attacker", "stolen"),
                 Reason::pop_failed, "attacker");
  EXPECT_EQ(status("attacker", "stolen"), "Unverified");
}

TEST_F(HubRegistration, ReplayedVerificationCertificateIsRefused) {
  upload(company_pem_);
  std::string captured = proof(code(), company_);
  ASSERT_EQ(verify(captured).status, 200);
  // Replayed to the same hub: the code was single-use.
  expect_refused(verify(captured), Reason::verification_code_used);
  // Replayed by an attacker who uploaded the same CA elsewhere: wrong code.
  upload(company_pem_, "attacker", "stolen");
  code("attacker", "stolen");
  expect_refused(verify(captured, "attacker", "stolen"), Reason::verification_code_mismatch,
                 "attacker");
  EXPECT_EQ(status("attacker", "stolen"), "Unverified");
}

TEST_F(HubRegistration, NewCodeVoidsTheOldOne) {
  upload(company_pem_);
  std::string old_code = code();
  std::string new_code = code();
  EXPECT_NE(old_code, new_code);
  expect_refused(verify(proof(old_code, company_)), Reason::verification_code_mismatch);
  EXPECT_EQ(verify(proof(new_code, company_)).status, 200);
}

TEST_F(HubRegistration, CodeExpires) {
  policy_.code_lifetime = std::chrono::seconds(0);
  registration_ = std::make_unique<hub::CaRegistration>(*registry_, narrator_, policy_);
  upload(company_pem_);
  expect_refused(verify(proof(code(), company_)), Reason::verification_code_expired);
}

TEST_F(HubRegistration, VerifyWithoutCodeIsRefused) {
  upload(company_pem_);
  expect_refused(verify(proof("ABC", company_)), Reason::verification_code_missing);
}

TEST_F(HubRegistration, UploadWithPrivateKeyIsRefusedAndTheKeyIsStoredNowhere) {
  std::string pem_key = key_pem(company_.key.get());
  std::string key_body = pem_key.substr(pem_key.find('\n') + 1, 40);
  expect_refused(upload(company_pem_ + pem_key), Reason::private_key_in_upload);
  // DER key after a DER certificate, and a PKCS#12 bundle, in base64.
  unsigned char *der_key = nullptr;
  int der_size = i2d_PrivateKey(company_.key.get(), &der_key);
  std::string der = pki::to_der(company_.certificate.get()) +
                    std::string(reinterpret_cast<char *>(der_key), size_t(der_size));
  OPENSSL_free(der_key);
  expect_refused(upload(pki::base64_encode(der)), Reason::private_key_in_upload);
  ossl::Ptr<PKCS12> bundle(PKCS12_create("pw", "company", company_.key.get(),
                                         company_.certificate.get(), nullptr, 0, 0, 0, 0, 0));
  unsigned char *p12 = nullptr;
  int p12_size = i2d_PKCS12(bundle.get(), &p12);
  std::string p12_bytes(reinterpret_cast<char *>(p12), size_t(p12_size));
  OPENSSL_free(p12);
  expect_refused(upload(pki::base64_encode(p12_bytes)), Reason::private_key_in_upload);

  EXPECT_TRUE(registry_->list_cas("contoso").empty());
  for (const std::string file : {"hub.db", "hub.db-wal"}) {
    std::string state = read_all(dir_.file(file));
    EXPECT_EQ(state.find(key_body), std::string::npos) << "PEM key text found in " << file;
    EXPECT_EQ(state.find("PRIVATE KEY"), std::string::npos) << file;
  }
  EXPECT_EQ(transcript_.str().find(key_body), std::string::npos) << "key text was logged";
}

TEST_F(HubRegistration, UploadRefusals) {
  auto device = testing::make_sub_ca(company_, "CN=not-really-a-ca", 0);
  // A leaf: build a device certificate under Company-X.
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject("CN=widget-001");
  plan.public_key = testing::make_key();
  plan.profile = pki::Profile::device;
  plan.not_before = now() - std::chrono::hours(1);
  plan.not_after = now() + std::chrono::hours(1);
  auto leaf = pki::sign_certificate(plan, company_.certificate.get(), company_.key.get());
  expect_refused(upload(pki::to_pem(leaf.get()), "contoso", "leaf"), Reason::not_a_ca);

  auto expired = testing::make_root("CN=Old", std::nullopt, std::chrono::hours(-48),
                                    std::chrono::hours(-1));
  expect_refused(upload(pki::to_pem(expired.certificate.get()), "contoso", "old"),
                 Reason::cert_expired);
  expect_refused(upload("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                        "contoso", "junk"),
                 Reason::malformed_certificate);
  ASSERT_EQ(upload(company_pem_).status, 201);
  expect_refused(upload(company_pem_, "contoso", "again"), Reason::duplicate_certificate);
  EXPECT_EQ(registry_->list_cas("contoso").size(), 1u);
}

TEST_F(HubRegistration, ApiAuthorisationAndBadBodies) {
  hub::TrustStore trust(*registry_);
  hub::ServiceContext context{*registry_, *registration_, trust, nullptr, nullptr};
  auto wrong = hub::handle_service_request(
      context,
      {"GET", "/hubs/contoso/certificates", {{"Authorization", "Bearer " + attacker_token_}}, ""});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.header("X-Chainlab-Reason"), "unauthorized");
  auto none = hub::handle_service_request(context, {"GET", "/hubs/contoso/certificates", {}, ""});
  EXPECT_EQ(none.status, 401);
  auto bad = call("PUT", "/certificates/x", json{{"cert", company_pem_}});
  EXPECT_EQ(bad.header("X-Chainlab-Reason"), "malformed_request");
  EXPECT_NE(json::parse(bad.body)["message"].get<std::string>().find("\"certificate\""),
            std::string::npos);
  auto missing = call("POST", "/certificates/nope/generateVerificationCode");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(HubRegistration, ListDisableEnableDeleteAndEvents) {
  upload(company_pem_);
  auto list = json::parse(call("GET", "/certificates").body);
  ASSERT_EQ(list["certificates"].size(), 1u);
  EXPECT_EQ(list["certificates"][0]["thumbprint"], pki::sha256_fingerprint(company_.certificate.get()));
  EXPECT_EQ(json::parse(call("POST", "/certificates/company-x/disable").body)["enabled"], false);
  EXPECT_EQ(json::parse(call("POST", "/certificates/company-x/enable").body)["enabled"], true);
  EXPECT_EQ(call("DELETE", "/certificates/company-x").status, 200);
  EXPECT_EQ(call("GET", "/certificates/company-x").status, 404);

  upload(company_pem_, "contoso", "company-x");
  verify(proof("nope", company_)); // refused: no code yet
  auto events = json::parse(call("GET", "/events").body);
  EXPECT_EQ(events["refusalsByReason"]["verification_code_missing"], 1);
  EXPECT_GE(events["events"].size(), 6u);
  // Tenants are separate: the attacker's hub saw none of this.
  EXPECT_TRUE(registry_->events("attacker").empty());
}

// A long history is answered page by page, never whole: at most 1,000
// events per answer, "next" continues after the last one given, and the
// refusal counts cover everything after "after", not only the page.
TEST_F(HubRegistration, EventsAreAnsweredPageByPage) {
  for (int i = 0; i < 1205; ++i)
    registry_->add_event_later({0, "contoso", now(), "refused", i % 5 ? "" : "chain_invalid",
                                "widget-" + std::to_string(i), "probe"});
  registry_->flush_events();
  auto first = json::parse(call("GET", "/events").body);
  ASSERT_EQ(first["events"].size(), 1000u);
  EXPECT_TRUE(first["more"].get<bool>());
  EXPECT_EQ(first["next"], first["events"].back()["id"]);
  EXPECT_EQ(first["refusalsByReason"]["chain_invalid"], 241); // all 1,205, not the page's 200
  auto rest = json::parse(call("GET", "/events?after=" + first["next"].dump()).body);
  ASSERT_EQ(rest["events"].size(), 205u);
  EXPECT_FALSE(rest["more"].get<bool>());
  EXPECT_EQ(rest["next"], rest["lastEventId"]);
  EXPECT_EQ(rest["events"][0]["subject"], "widget-1000");
  EXPECT_EQ(rest["refusalsByReason"]["chain_invalid"], 41);

  auto none = json::parse(call("GET", "/events?limit=0").body);
  EXPECT_TRUE(none["events"].empty());
  EXPECT_EQ(none["lastEventId"], rest["lastEventId"]);
  EXPECT_EQ(json::parse(call("GET", "/events?limit=2&after=5").body)["events"].size(), 2u);
  for (std::string bad : {"limit=1001", "limit=-1", "limit=ten", "after=-1", "after=1e3",
                          "after=99999999999999999999"}) {
    auto refused = call("GET", "/events?" + bad);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_NE(refused.body.find(bad.substr(0, bad.find('='))), std::string::npos) << refused.body;
  }
}

// `hub events` prints a long history a page at a time (never read whole into
// memory), every event once and in order, with the refusals of all of it.
TEST(HubEventsCommand, PrintsEveryEventAndCountsEveryRefusal) {
  testing::TempDir dir;
  std::ostringstream transcript;
  Narrator narrator("hub", transcript);
  hub::init_hub(dir.path(), narrator);
  hub::create_tenant(dir.path(), "contoso", narrator);
  {
    registry::HubRegistry registry(dir.file("hub.db"));
    for (int i = 0; i < 2345; ++i)
      registry.add_event_later({0, "contoso", now(), "refused", i % 5 ? "" : "chain_invalid",
                                "widget", "probe-" + std::to_string(i)});
    registry.flush_events();
  }
  std::ostringstream out;
  hub::print_events(dir.path(), "contoso", out);
  std::string printed = out.str();
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 2345 + 1); // and the counts
  EXPECT_LT(printed.find("probe-999\n"), printed.find("probe-1000\n"));
  EXPECT_NE(printed.find("probe-2344\n"), std::string::npos);
  EXPECT_NE(printed.find("refusals by reason: chain_invalid=469\n"), std::string::npos);
}

// Devices are answered a page at a time by id, "count" is every device the
// query selects, and the filter holds across pages.
TEST_F(HubRegistration, DevicesAreAnsweredPageByPage) {
  for (int i = 0; i < 7; ++i) {
    registry::DeviceRecord device;
    device.hub = "contoso";
    device.device_id = "widget-" + std::to_string(i);
    device.registration = "pre-registered";
    device.enabled = i != 3;
    registry_->upsert_device(device);
  }
  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 4; ++page) {
    auto body = json::parse(call("GET", "/devices?status=enabled&limit=2&after=" + after).body);
    EXPECT_EQ(body["count"], 6);
    for (const auto &device : body["devices"])
      seen.push_back(device["deviceId"]);
    after = body["next"];
    EXPECT_EQ(body["more"].get<bool>(), page < 2) << page;
    if (!body["more"].get<bool>())
      break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"widget-0", "widget-1", "widget-2", "widget-4",
                                            "widget-5", "widget-6"}));
  auto counted = json::parse(call("GET", "/devices?limit=0").body);
  EXPECT_TRUE(counted["devices"].empty());
  EXPECT_EQ(counted["count"], 7);
  EXPECT_TRUE(counted["more"].get<bool>());
  auto refused = call("GET", "/devices?limit=1001");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find(R"(query parameter \"limit\")"), std::string::npos) << refused.body;
}

// A device's telemetry is answered a page at a time, oldest first, and only
// its own messages.
TEST_F(HubRegistration, TelemetryIsAnsweredPageByPage) {
  registry::DeviceRecord device;
  device.hub = "contoso";
  device.device_id = "widget-1";
  device.registration = "pre-registered";
  registry_->upsert_device(device);
  for (int i = 0; i < 5; ++i) {
    registry_->add_telemetry({"contoso", "widget-1", now(), "t", "m" + std::to_string(i)});
    registry_->add_telemetry({"contoso", "widget-2", now(), "t", "not widget-1's"});
  }
  std::vector<std::string> payloads;
  std::int64_t after = 0;
  for (int page = 0; page < 5; ++page) {
    auto body = json::parse(
        call("GET", "/devices/widget-1/telemetry?limit=2&after=" + std::to_string(after)).body);
    for (const auto &message : body["telemetry"])
      payloads.push_back(message["payload"]);
    after = body["next"];
    if (!body["more"].get<bool>())
      break;
  }
  EXPECT_EQ(payloads, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
  auto whole = json::parse(call("GET", "/devices/widget-1/telemetry").body);
  EXPECT_EQ(whole["telemetry"].size(), 5u);
  EXPECT_FALSE(whole["more"].get<bool>());
  EXPECT_EQ(call("GET", "/devices/widget-1/telemetry?after=x").status, 400);
  // A direct method's timeout is whole seconds from 1 to 60, or refused by name.
  for (std::string bad : {"0", "61", "-5", "abc", "1.5"}) {
    auto refused = call("POST", "/devices/widget-1/methods/reboot?timeout=" + bad);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_NE(refused.body.find(R"(query parameter \"timeout\")"), std::string::npos) << refused.body;
  }
}

} // namespace
} // namespace chainlab
