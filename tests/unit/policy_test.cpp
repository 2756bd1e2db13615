// Issuance policy validators, each as a table of named cases
// ("fail/..." must refuse with the given reason, "ok/..." must pass).
#include <gtest/gtest.h>

#include "pki/inspect.hpp"
#include "pki/policy.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using testing::CsrSpec;
using testing::make_csr;
using testing::make_key;
using std::chrono::hours;

struct Case {
  std::string name;
  std::optional<Reason> expected; // nullopt = must pass
};

void expect_outcome(const Case &c, const std::optional<Error> &refusal) {
  SCOPED_TRACE(c.name);
  if (!c.expected) {
    EXPECT_FALSE(refusal) << (refusal ? refusal->what() : "");
    return;
  }
  ASSERT_TRUE(refusal) << "expected " << to_string(*c.expected);
  EXPECT_EQ(refusal->reason(), *c.expected) << refusal->what();
  EXPECT_FALSE(refusal->detail().empty());
}

TEST(KeyStrength, Table) {
  struct KeyCase : Case {
    std::function<ossl::Ptr<EVP_PKEY>()> make;
  };
  std::vector<KeyCase> cases = {
      {{"ok/ec-p256", std::nullopt}, [] { return make_key(hsm::KeyType::ec_p256); }},
      {{"ok/ec-p384", std::nullopt}, [] { return make_key(hsm::KeyType::ec_p384); }},
      {{"ok/rsa-2048-exactly-min", std::nullopt}, [] { return make_key(hsm::KeyType::rsa_2048); }},
      {{"fail/rsa-1024", Reason::weak_key},
       [] { return ossl::Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024))); }},
      {{"fail/ec-secp256k1-unknown-curve", Reason::weak_key},
       [] { return ossl::Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1")); }},
      {{"fail/ed25519-not-accepted", Reason::weak_key},
       [] { return ossl::Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }},
  };
  for (const auto &c : cases) {
    auto key = c.make();
    ASSERT_TRUE(key) << c.name;
    expect_outcome(c, pki::check_key_strength(key.get()));
  }
}

TEST(DeviceId, Table) {
  std::vector<std::pair<std::string, bool>> cases = {
      {"widget-001", true},
      {"a", true},
      {"A-Z.a_z:09", true},
      {std::string(128, 'x'), true},
      {std::string(129, 'x'), false},
      {"", false},
      {"widget 001", false},
      {"widget/001", false},
      {"wídget", false},
      {std::string("widget\0x", 8), false},
  };
  for (const auto &[id, valid] : cases)
    EXPECT_EQ(pki::is_valid_device_id(id), valid) << "device id \"" << id << "\"";

  auto subject = pki::parse_subject("CN=widget 001");
  auto refusal = pki::check_device_id(subject.get());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->reason(), Reason::invalid_device_id);
  EXPECT_NE(refusal->detail().find("CN=widget 001"), std::string::npos);
  auto no_cn = pki::parse_subject("O=Company-X");
  EXPECT_TRUE(pki::check_device_id(no_cn.get()));
}

TEST(Subject, Table) {
  struct SubjectCase : Case {
    std::string requested, authorised;
  };
  std::vector<SubjectCase> cases = {
      {{"ok/same", std::nullopt}, "CN=Factory-Y", "CN=Factory-Y"},
      {{"ok/multi-attribute", std::nullopt}, "CN=Factory-Y,O=Company-X", "CN=Factory-Y,O=Company-X"},
      {{"fail/other-cn", Reason::subject_mismatch}, "CN=Factory-Q", "CN=Factory-Y"},
      {{"fail/extra-attribute", Reason::subject_mismatch}, "CN=Factory-Y,O=Evil", "CN=Factory-Y"},
      {{"fail/case-differs", Reason::subject_mismatch}, "CN=factory-y", "CN=Factory-Y"},
  };
  for (const auto &c : cases) {
    auto requested = pki::parse_subject(c.requested);
    auto authorised = pki::parse_subject(c.authorised);
    expect_outcome(c, pki::check_subject(requested.get(), authorised.get()));
  }
}

TEST(CsrSignature, Table) {
  auto key = make_key();
  auto good = make_csr(key.get(), {});
  auto bad = make_csr(key.get(), CsrSpec{"CN=widget-001", {}, true});
  expect_outcome({"ok/self-signed", std::nullopt}, pki::check_csr_signature(good.get()));
  expect_outcome({"fail/corrupted-signature", Reason::csr_signature_invalid},
                 pki::check_csr_signature(bad.get()));
}

TEST(RequestedExtensions, Table) {
  struct ExtensionCase : Case {
    pki::Profile profile;
    std::vector<std::pair<int, std::string>> extensions;
  };
  using P = pki::Profile;
  std::vector<ExtensionCase> cases = {
      {{"ok/device-asks-nothing", std::nullopt}, P::device, {}},
      {{"ok/device-asks-its-own", std::nullopt},
       P::device,
       {{NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "clientAuth"}}},
      {{"fail/device-asks-ca-true", Reason::extension_not_allowed},
       P::device, {{NID_basic_constraints, "critical,CA:TRUE"}}},
      {{"fail/device-asks-key-cert-sign", Reason::extension_not_allowed},
       P::device, {{NID_key_usage, "digitalSignature,keyCertSign"}}},
      {{"fail/device-asks-server-auth", Reason::extension_not_allowed},
       P::device, {{NID_ext_key_usage, "clientAuth,serverAuth"}}},
      {{"fail/device-asks-subject-alt-name", Reason::extension_not_allowed},
       P::device, {{NID_subject_alt_name, "DNS:evil.example"}}},
      {{"ok/sub-ca-asks-its-own", std::nullopt},
       P::subordinate_ca,
       {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"}}},
      {{"fail/sub-ca-asks-ca-false", Reason::extension_not_allowed},
       P::subordinate_ca, {{NID_basic_constraints, "CA:FALSE"}}},
      {{"fail/sub-ca-asks-eku", Reason::extension_not_allowed},
       P::subordinate_ca, {{NID_ext_key_usage, "clientAuth"}}},
  };
  auto key = make_key();
  for (const auto &c : cases) {
    auto csr = make_csr(key.get(), CsrSpec{"CN=x", c.extensions, false});
    expect_outcome(c, pki::check_requested_extensions(pki::requested_extensions(csr.get()),
                                                      c.profile));
  }
}

TEST(PathLen, Table) {
  auto unlimited = testing::make_root("CN=Root");
  auto one = testing::make_root("CN=Root-1", 1);
  auto zero = testing::make_root("CN=Root-0", 0);
  struct PathCase : Case {
    X509 *issuer;
    std::optional<long> granted, asked;
    std::optional<long> decided;
  };
  std::vector<PathCase> cases = {
      {{"ok/seed-factory-pathlen-1-under-unlimited", std::nullopt}, unlimited.certificate.get(), 1, std::nullopt, 1},
      {{"ok/default-under-unlimited-is-0", std::nullopt}, unlimited.certificate.get(), std::nullopt, std::nullopt, 0},
      {{"ok/default-under-1-is-0", std::nullopt}, one.certificate.get(), std::nullopt, std::nullopt, 0},
      {{"ok/granted-exactly-max", std::nullopt}, one.certificate.get(), 0, std::nullopt, 0},
      {{"ok/asks-less-than-granted", std::nullopt}, unlimited.certificate.get(), 2, 1, 2},
      {{"fail/granted-over-issuer", Reason::path_len_exceeded}, one.certificate.get(), 1, std::nullopt, {}},
      {{"fail/issuer-pathlen-0-signs-no-ca", Reason::path_len_exceeded}, zero.certificate.get(), std::nullopt, std::nullopt, {}},
      {{"fail/asks-more-than-granted", Reason::path_len_exceeded}, unlimited.certificate.get(), 0, 3, {}},
  };
  for (const auto &c : cases) {
    auto result = pki::decide_path_len(c.granted, c.asked, c.issuer);
    expect_outcome(c, result ? std::nullopt : std::optional<Error>(result.error()));
    if (result && c.decided) {
      EXPECT_EQ(result.value(), c.decided) << c.name;
    }
  }
}

TEST(Validity, Table) {
  auto now = std::chrono::system_clock::now();
  auto live = testing::make_root("CN=Live", std::nullopt, hours(-1), hours(24 * 10));
  auto expired = testing::make_root("CN=Expired", std::nullopt, hours(-48), hours(-1));
  auto future = testing::make_root("CN=Future", std::nullopt, hours(24), hours(48));
  struct ValidityCase : Case {
    X509 *issuer;
    std::chrono::seconds lifetime;
    bool clamped;
  };
  std::vector<ValidityCase> cases = {
      {{"ok/inside-issuer", std::nullopt}, live.certificate.get(), hours(24), false},
      {{"ok/clamped-to-issuer-not-after", std::nullopt}, live.certificate.get(), hours(24 * 365), true},
      {{"fail/issuer-expired", Reason::issuer_expired}, expired.certificate.get(), hours(24), false},
      {{"fail/issuer-not-yet-valid", Reason::issuer_expired}, future.certificate.get(), hours(24), false},
  };
  for (const auto &c : cases) {
    auto window = pki::decide_validity(c.lifetime, c.issuer, now);
    expect_outcome(c, window ? std::nullopt : std::optional<Error>(window.error()));
    if (!window)
      continue;
    EXPECT_GE(window.value().not_before, pki::not_before(c.issuer)) << c.name;
    EXPECT_LE(window.value().not_after, pki::not_after(c.issuer)) << c.name;
    if (c.clamped) {
      EXPECT_EQ(window.value().not_after, pki::not_after(c.issuer)) << c.name;
    }
  }
}

TEST(PlanCertificate, StopsAtFirstRefusalInFixedOrder) {
  auto issuer = testing::make_root("CN=Technician-Z", 0);
  auto weak = ossl::Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
  // A weak key *and* a wrong subject: the key check comes first.
  auto csr = make_csr(weak.get(), CsrSpec{"CN=someone-else", {}, false});
  auto authorised = pki::parse_subject("CN=widget-001");
  pki::IssuanceRequest request{csr.get(), pki::Profile::device, authorised.get(),
                               std::nullopt, hours(24)};
  auto plan = pki::plan_certificate(request, issuer.certificate.get(),
                                    std::chrono::system_clock::now());
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().reason(), Reason::weak_key);
}

TEST(PlanCertificate, DeviceCertificateHasProfileExtensionsAndDigest) {
  auto issuer = testing::make_root("CN=Technician-Z", 0);
  auto key = make_key(hsm::KeyType::ec_p384);
  auto csr = make_csr(key.get(), {});
  auto authorised = pki::parse_subject("CN=widget-001");
  pki::IssuanceRequest request{csr.get(), pki::Profile::device, authorised.get(),
                               std::nullopt, hours(24)};
  auto plan = pki::plan_certificate(request, issuer.certificate.get(),
                                    std::chrono::system_clock::now());
  ASSERT_TRUE(plan) << plan.error().what();
  auto cert = pki::sign_certificate(plan.value(), issuer.certificate.get(), issuer.key.get());
  EXPECT_FALSE(pki::is_ca(cert.get()));
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT);
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(cert.get()), nullptr);
  // Serial: random, positive, up to 128 bits.
  ossl::Ptr<BIGNUM> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  EXPECT_LE(BN_num_bits(serial.get()), 128);
  EXPECT_FALSE(BN_is_negative(serial.get()));
  // The issuer's key is P-256, so the signature is ECDSA with SHA-256.
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
}

TEST(SigningDigest, FollowsIssuerKey) {
  EXPECT_EQ(pki::signing_digest(make_key(hsm::KeyType::ec_p384).get()), EVP_sha384());
  EXPECT_EQ(pki::signing_digest(make_key(hsm::KeyType::ec_p256).get()), EVP_sha256());
  EXPECT_EQ(pki::signing_digest(make_key(hsm::KeyType::rsa_2048).get()), EVP_sha256());
}

} // namespace
} // namespace chainlab
