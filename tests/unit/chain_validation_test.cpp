// Device chain validation as a table of named cases: every failure is
// refused with its own reason, naming the certificate.
#include <gtest/gtest.h>

#include <functional>

#include "pki/chain_validation.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using std::chrono::hours;
using testing::TestCa;

ossl::Ptr<X509> issue(const TestCa &issuer, pki::Profile profile, const std::string &subject,
                      EVP_PKEY *key, hours from = hours(-1), hours until = hours(24)) {
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(key);
  plan.profile = profile;
  plan.not_before = std::chrono::system_clock::now() + from;
  plan.not_after = std::chrono::system_clock::now() + until;
  return pki::sign_certificate(plan, issuer.certificate.get(), issuer.key.get());
}

pki::CertList list(std::initializer_list<X509 *> certs) {
  pki::CertList out;
  for (X509 *cert : certs)
    out.push_back(ossl::up_ref(cert));
  return out;
}

struct Seed {
  TestCa company = testing::make_root("CN=Company-X");
  TestCa factory = testing::make_sub_ca(company, "CN=Factory-Y", 1);
  TestCa technician = testing::make_sub_ca(factory, "CN=Technician-Z", 0);
  ossl::Ptr<EVP_PKEY> device_key = testing::make_key();
  ossl::Ptr<X509> device =
      issue(technician, pki::Profile::device, "CN=widget-001", device_key.get());

  std::vector<pki::TrustAnchor> anchors(bool verified = true, bool enabled = true) const {
    std::vector<pki::TrustAnchor> out;
    out.push_back({"company-x", ossl::up_ref(company.certificate.get()), verified, enabled});
    return out;
  }
  pki::CertList intermediates() const {
    return list({technician.certificate.get(), factory.certificate.get()});
  }
};

struct Case {
  std::string name;
  std::optional<Reason> expected;
  X509 *leaf;
  pki::CertList presented;
  std::vector<pki::TrustAnchor> anchors;
  std::string mentions; // a fragment the explanation must contain
};

void run(std::vector<Case> &cases) {
  for (auto &c : cases) {
    SCOPED_TRACE(c.name);
    auto result = pki::validate_device_chain(c.leaf, c.presented, c.anchors,
                                             std::chrono::system_clock::now());
    if (!c.expected) {
      EXPECT_TRUE(result) << result.error().what();
      continue;
    }
    ASSERT_FALSE(result) << "accepted";
    EXPECT_EQ(result.error().reason(), *c.expected) << result.error().what();
    EXPECT_NE(result.error().detail().find(c.mentions), std::string::npos)
        << result.error().detail();
  }
}

TEST(ChainValidation, SeedChainIsAcceptedAndNamesItsAnchorAndIssuer) {
  Seed seed;
  auto result = pki::validate_device_chain(seed.device.get(), seed.intermediates(),
                                           seed.anchors(), std::chrono::system_clock::now());
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result.value().anchor_name, "company-x");
  EXPECT_EQ(result.value().issuer_subject, "CN=Technician-Z");
  EXPECT_EQ(result.value().chain.size(), 4u);
}

TEST(ChainValidation, Table) {
  Seed seed;
  auto other_key = testing::make_key();
  // Attack material.
  TestCa rogue_factory = testing::make_root("CN=Factory-Y"); // self-signed look-alike
  auto rogue_device = issue(rogue_factory, pki::Profile::device, "CN=widget-666", other_key.get());
  auto expired_device = issue(seed.technician, pki::Profile::device, "CN=widget-old",
                              other_key.get(), hours(-48), hours(-1));
  auto future_device = issue(seed.technician, pki::Profile::device, "CN=widget-new",
                             other_key.get(), hours(24), hours(48));
  TestCa expired_technician = testing::make_sub_ca(seed.factory, "CN=Technician-Old", 0,
                                                   hours(-48), hours(-1));
  auto under_expired = issue(expired_technician, pki::Profile::device, "CN=widget-002",
                             other_key.get(), hours(-1), hours(24));
  TestCa device_as_ca{ossl::up_ref(seed.device.get()), ossl::up_ref(seed.device_key.get())};
  auto signed_by_device = issue(device_as_ca, pki::Profile::device, "CN=widget-fake", other_key.get());
  TestCa too_deep = testing::make_sub_ca(seed.technician, "CN=Sub-Installer", 0);
  auto under_too_deep = issue(too_deep, pki::Profile::device, "CN=widget-deep", other_key.get());
  auto server_only = issue(seed.technician, pki::Profile::tls_server, "CN=widget-srv", other_key.get());
  std::string der = pki::to_der(seed.device.get());
  der[der.size() - 8] ^= 0x01; // a flipped bit in the signature value
  auto forged = pki::parse_certificate(der, "tampered");
  ossl::Ptr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
  auto weak_device = issue(seed.technician, pki::Profile::device, "CN=widget-weak", weak.get());
  auto sha1_device = issue(seed.technician, pki::Profile::device, "CN=widget-sha1", other_key.get());
  X509_sign(sha1_device.get(), seed.technician.key.get(), EVP_sha1());
  auto odd_device = issue(seed.technician, pki::Profile::device, "CN=widget-odd", other_key.get());
  {
    ossl::Ptr<ASN1_STRING> value(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char *>("\x05\x00"), 2);
    ossl::Ptr<ASN1_OBJECT> oid(OBJ_txt2obj("1.3.6.1.4.1.55555.1", 1));
    ossl::Ptr<X509_EXTENSION> unknown(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, value.get()));
    X509_add_ext(odd_device.get(), unknown.get(), -1);
    X509_sign(odd_device.get(), seed.technician.key.get(), EVP_sha256());
  }

  std::vector<Case> cases;
  cases.push_back({"ok/seed-chain", std::nullopt, seed.device.get(), seed.intermediates(), seed.anchors(), ""});
  cases.push_back({"ok/intermediates-in-any-order", std::nullopt, seed.device.get(),
                   list({seed.factory.certificate.get(), seed.technician.certificate.get()}),
                   seed.anchors(), ""});
  cases.push_back({"fail/missing-intermediate", Reason::issuer_missing, seed.device.get(),
                   list({seed.technician.certificate.get()}), seed.anchors(), "CN=Factory-Y"});
  cases.push_back({"fail/no-intermediates", Reason::issuer_missing, seed.device.get(), {},
                   seed.anchors(), "CN=Technician-Z"});
  cases.push_back({"fail/ca-unverified", Reason::ca_unverified, seed.device.get(),
                   seed.intermediates(), seed.anchors(false), "company-x"});
  cases.push_back({"fail/ca-disabled", Reason::ca_disabled, seed.device.get(),
                   seed.intermediates(), seed.anchors(true, false), "disabled"});
  cases.push_back({"fail/rogue-factory", Reason::ca_unknown, rogue_device.get(),
                   list({rogue_factory.certificate.get()}), seed.anchors(), "CN=Factory-Y"});
  cases.push_back({"fail/device-expired", Reason::cert_expired, expired_device.get(),
                   seed.intermediates(), seed.anchors(), "CN=widget-old (at depth 0) expired at"});
  cases.push_back({"fail/intermediate-expired", Reason::cert_expired, under_expired.get(),
                   list({expired_technician.certificate.get(), seed.factory.certificate.get()}),
                   seed.anchors(), "CN=Technician-Old (at depth 1)"});
  cases.push_back({"fail/not-yet-valid", Reason::cert_not_yet_valid, future_device.get(),
                   seed.intermediates(), seed.anchors(), "not valid before"});
  cases.push_back({"fail/device-certificate-used-as-ca", Reason::not_a_ca, signed_by_device.get(),
                   list({seed.device.get(), seed.technician.certificate.get(),
                         seed.factory.certificate.get()}),
                   seed.anchors(), "CN=widget-001 (at depth 1)"});
  cases.push_back({"fail/path-len-exceeded", Reason::path_len_exceeded, under_too_deep.get(),
                   list({too_deep.certificate.get(), seed.technician.certificate.get(),
                         seed.factory.certificate.get()}),
                   seed.anchors(), "pathLen"});
  cases.push_back({"fail/wrong-eku", Reason::wrong_purpose, server_only.get(), seed.intermediates(),
                   seed.anchors(), "CN=widget-srv"});
  cases.push_back({"fail/tampered-certificate", Reason::signature_invalid, forged.get(),
                   seed.intermediates(), seed.anchors(), "CN=widget-001"});
  cases.push_back({"fail/weak-key", Reason::weak_key, weak_device.get(), seed.intermediates(),
                   seed.anchors(), "RSA 1024"});
  cases.push_back({"fail/sha1-signature", Reason::weak_signature, sha1_device.get(),
                   seed.intermediates(), seed.anchors(), "SHA-1"});
  cases.push_back({"fail/unknown-critical-extension", Reason::chain_invalid, odd_device.get(),
                   seed.intermediates(), seed.anchors(), "critical extension"});
  run(cases);
}

TEST(ChainValidation, BoughtCaIsAnAnchorWithoutItsRoot) {
  TestCa public_root = testing::make_root("CN=Public Root CA");
  TestCa company = testing::make_sub_ca(public_root, "CN=Company-X", 2);
  auto key = testing::make_key();
  auto device = issue(company, pki::Profile::device, "CN=widget-001", key.get());
  std::vector<pki::TrustAnchor> anchors;
  anchors.push_back({"company-x", ossl::up_ref(company.certificate.get()), true, true});
  auto result = pki::validate_device_chain(device.get(), {}, anchors, std::chrono::system_clock::now());
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result.value().anchor_name, "company-x");
}

// Proven: a validator that has validated the seed device's chain once, so
// that its cache holds Technician-Z.
struct Proven {
  Seed seed;
  pki::ChainValidator validator;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  Result<pki::ValidatedChain> first =
      validator.validate(seed.device.get(), seed.intermediates(), seed.anchors(), now);
};

TEST(ChainValidator, RepeatChainsUnderAProvenIntermediateHitTheCache) {
  Seed seed;
  pki::ChainValidator validator;
  auto now = std::chrono::system_clock::now();
  auto key = testing::make_key();
  auto second = issue(seed.technician, pki::Profile::device, "CN=widget-002", key.get());
  ASSERT_TRUE(validator.validate(seed.device.get(), seed.intermediates(), seed.anchors(), now));
  EXPECT_EQ(validator.cache_hits(), 0u);
  EXPECT_EQ(validator.cache_size(), 1u);
  auto cached = validator.validate(second.get(), seed.intermediates(), seed.anchors(), now);
  ASSERT_TRUE(cached) << cached.error().what();
  EXPECT_EQ(validator.cache_hits(), 1u);
  EXPECT_EQ(cached.value().chain.size(), 4u);
  EXPECT_EQ(cached.value().anchor_name, "company-x");
  EXPECT_EQ(cached.value().issuer_subject, "CN=Technician-Z");
}

TEST(ChainValidator, TheCacheNeverAcceptsWhatTheFullPathRefuses) {
  Proven proven;
  ASSERT_TRUE(proven.first) << proven.first.error().what();
  auto &[seed, validator, now, first] = proven;
  // The leaf itself is still checked in full: an expired device under a
  // cached intermediate is refused, and explained by the full path.
  auto key = testing::make_key();
  auto expired = issue(seed.technician, pki::Profile::device, "CN=widget-old", key.get(),
                       hours(-48), hours(-1));
  auto refused = validator.validate(expired.get(), seed.intermediates(), seed.anchors(), now);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason(), Reason::cert_expired);
  // Disabling the CA drops the cache at once.
  auto disabled = validator.validate(seed.device.get(), seed.intermediates(),
                                     seed.anchors(true, false), now);
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().reason(), Reason::ca_disabled);
  EXPECT_EQ(validator.cache_size(), 0u);
  // An entry lapses with the earliest notAfter above the leaf.
  ASSERT_TRUE(validator.validate(seed.device.get(), seed.intermediates(), seed.anchors(), now));
  auto later = now + hours(24 * 400); // past Technician-Z's notAfter
  auto lapsed = validator.validate(seed.device.get(), seed.intermediates(), seed.anchors(), later);
  ASSERT_FALSE(lapsed);
  EXPECT_EQ(lapsed.error().reason(), Reason::cert_expired);
}

// reparsed: |cert| as a TLS peer's would arrive (a fresh parse of its
// DER), after |edit| changed that DER.
ossl::Ptr<X509> reparsed(X509 *cert, const std::function<void(std::string &)> &edit = {}) {
  std::string der = pki::to_der(cert);
  if (edit)
    edit(der);
  auto parsed = pki::parse_certificates(std::string_view(der), "test");
  return parsed.size() == 1 ? std::move(parsed[0]) : nullptr;
}

// The last byte of |cert|'s serial number, inside its signed part.
void flip_serial_byte(X509 *cert, std::string &der) {
  const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
  std::string bytes(reinterpret_cast<const char *>(ASN1_STRING_get0_data(serial)),
                    std::size_t(ASN1_STRING_length(serial)));
  auto at = der.find(bytes);
  ASSERT_NE(at, std::string::npos);
  der[at + bytes.size() - 1] ^= 0x01;
}

TEST(ChainValidator, ACachedChainDescribesEachDepthAsTheFullPathDoes) {
  Proven proven;
  ASSERT_TRUE(proven.first) << proven.first.error().what();
  auto &[seed, validator, now, full] = proven;
  // A second device, its intermediates parsed afresh, as in a handshake.
  auto key = testing::make_key();
  auto second = reparsed(issue(seed.technician, pki::Profile::device, "CN=widget-002",
                               key.get()).get());
  auto cached = validator.validate(
      second.get(),
      list({reparsed(seed.technician.certificate.get()).get(),
            reparsed(seed.factory.certificate.get()).get()}),
      seed.anchors(), now);
  ASSERT_TRUE(cached) << cached.error().what();
  EXPECT_EQ(validator.cache_hits(), 1u);
  for (const auto *chain : {&full.value(), &cached.value()}) {
    ASSERT_EQ(chain->subjects.size(), chain->chain.size());
    ASSERT_EQ(chain->key_fingerprints.size(), chain->chain.size());
    for (std::size_t depth = 0; depth < chain->chain.size(); ++depth) {
      EXPECT_EQ(chain->subjects[depth], pki::subject_text(chain->chain[depth].get()));
      EXPECT_EQ(chain->key_fingerprints[depth], pki::key_fingerprint(chain->chain[depth].get()));
    }
  }
  EXPECT_EQ(cached.value().subjects[0], "CN=widget-002");
  EXPECT_EQ(cached.value().anchor_subject, "CN=Company-X");
}

// The cache finds an intermediate by its signature bytes; one that carries
// those bytes over another signed part, or other bytes over the same signed
// part, is not the cached one, and the full path refuses it.
TEST(ChainValidator, AnIntermediateThatOnlyResemblesTheCachedOneIsCheckedInFull) {
  Proven proven;
  ASSERT_TRUE(proven.first) << proven.first.error().what();
  auto &[seed, validator, now, first] = proven;
  X509 *technician = seed.technician.certificate.get();
  auto other_serial =
      reparsed(technician, [&](std::string &der) { flip_serial_byte(technician, der); });
  auto other_signature = reparsed(technician, [](std::string &der) { der.back() ^= 0x01; });
  for (X509 *impostor : {other_serial.get(), other_signature.get()}) {
    ASSERT_NE(impostor, nullptr);
    auto refused = validator.validate(seed.device.get(),
                                      list({impostor, seed.factory.certificate.get()}),
                                      seed.anchors(), now);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().reason(), Reason::signature_invalid) << refused.error().what();
  }
  EXPECT_EQ(validator.cache_hits(), 0u);
}

// A certificate whose key does not decode (a P-256 point off the curve),
// validly signed by its CA: refused with a reason, never a crash. Found by
// the device_chain fuzz target: the explanation read the missing key.
TEST(ChainValidation, LeafWhoseKeyDoesNotDecodeIsRefusedWithAReason) {
  TestCa company = testing::make_root("CN=Company-X");
  auto key = testing::make_key();
  auto device = issue(company, pki::Profile::device, "CN=widget-001", key.get());
  ASSERT_TRUE(testing::put_key_off_curve(device.get()));
  ASSERT_GT(X509_sign(device.get(), company.key.get(), EVP_sha256()), 0);
  auto der = pki::to_der(device.get()); // a fresh parse, as a TLS peer's would be
  auto parsed = pki::parse_certificates(std::string_view(der), "test");
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(X509_get0_pubkey(parsed[0].get()), nullptr);
  std::vector<pki::TrustAnchor> anchors;
  anchors.push_back({"company-x", ossl::up_ref(company.certificate.get()), true, true});
  auto result = pki::validate_device_chain(parsed[0].get(), {}, anchors,
                                            std::chrono::system_clock::now());
  ASSERT_FALSE(result);
  EXPECT_NE(std::string(result.error().what()).find("no key that decodes"), std::string::npos)
      << result.error().what();
}

} // namespace
} // namespace chainlab
