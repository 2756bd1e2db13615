// EST round trips in process: a real CertificateAuthority (software keys,
// a real SQLite issuance log) behind the real EST handler. Every refusal
// asserts its reason code and that nothing was issued.
#include <gtest/gtest.h>

#include <sstream>

#include "ca/certificate_authority.hpp"
#include "core/clock.hpp"
#include "est/codec.hpp"
#include "est/server.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using testing::CsrSpec;
using testing::make_csr;
using testing::make_key;

class EstRoundTrip : public ::testing::Test {
protected:
  // |issuer_path_len| shapes the CA under test: 0 = Technician-Z, 1 = Factory-Y.
  void start(std::optional<long> issuer_path_len) {
    ca_ = testing::make_sub_ca(root_, "CN=Technician-Z", issuer_path_len);
    pki::CertList chain;
    chain.push_back(ossl::up_ref(ca_.certificate.get()));
    chain.push_back(ossl::up_ref(root_.certificate.get()));
    log_ = std::make_unique<registry::IssuanceLog>(dir_.file("issuance.db"));
    authority_ = std::make_unique<ca::CertificateAuthority>(
        std::move(chain), ossl::up_ref(ca_.key.get()), *log_, narrator_);
  }
  void SetUp() override { start(0); }

  std::string secret(const std::string &subject, const std::string &profile = "device",
                     std::optional<long> path_len = std::nullopt,
                     std::optional<TimePoint> expires = std::nullopt) {
    registry::StoredSecret stored;
    stored.subject = subject;
    stored.profile = profile;
    stored.path_len = path_len;
    stored.expires_at = expires;
    return log_->create_secret(stored);
  }

  HttpResponse enrol(X509_REQ *csr, const std::string &secret_text) {
    HttpRequest request{"POST", "/.well-known/est/simpleenroll",
                        {{"Content-Type", "application/pkcs10"}},
                        est::encode_csr(csr)};
    if (!secret_text.empty())
      request.headers.emplace_back("Authorization",
                                   "Basic " + pki::base64_encode("x:" + secret_text));
    return est::handle_request(*authority_, request, {"127.0.0.1:9", nullptr, ""});
  }

  HttpResponse reenrol(X509_REQ *csr, X509 *client_cert, const std::string &cert_error = "") {
    HttpRequest request{"POST", "/.well-known/est/simplereenroll",
                        {{"Content-Type", "application/pkcs10"}},
                        est::encode_csr(csr)};
    return est::handle_request(*authority_, request, {"127.0.0.1:9", client_cert, cert_error});
  }

  // expect_refused: the response carries |reason| and nothing was issued.
  void expect_refused(const HttpResponse &response, Reason reason, std::int64_t issued_before) {
    EXPECT_NE(response.status, 200);
    EXPECT_EQ(response.header(est::kReasonHeader), to_string(reason)) << response.body;
    EXPECT_EQ(log_->count(), issued_before) << "a refused request issued something";
    EXPECT_NE(transcript_.str().find(std::string("refused (") + std::string(to_string(reason))),
              std::string::npos)
        << transcript_.str();
  }

  ossl::Ptr<X509> issued(const HttpResponse &response) {
    EXPECT_EQ(response.status, 200) << response.body;
    auto certs = est::decode_certs_only(response.body, "test");
    return std::move(certs.front());
  }

  testing::TempDir dir_;
  testing::TestCa root_ = testing::make_root("CN=Company-X");
  testing::TestCa ca_;
  std::ostringstream transcript_;
  Narrator narrator_{"Technician-Z", transcript_};
  std::unique_ptr<registry::IssuanceLog> log_;
  std::unique_ptr<ca::CertificateAuthority> authority_;
};

TEST_F(EstRoundTrip, DeviceEnrolsOnceWithItsSecret) {
  auto key = make_key();
  auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=widget-001").get(),
                            pki::Profile::device);
  std::string s = secret("CN=widget-001");
  auto cert = issued(enrol(csr.get(), s));
  EXPECT_EQ(pki::subject_text(cert.get()), "CN=widget-001");
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_.certificate.get())), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()), 1);
  EXPECT_LE(pki::not_after(cert.get()), pki::not_after(ca_.certificate.get()));
  ASSERT_EQ(log_->count(), 1);
  auto record = log_->list().front();
  EXPECT_EQ(record.subject, "CN=widget-001");
  EXPECT_EQ(record.profile, "device");
  EXPECT_EQ(record.key_fingerprint, pki::key_fingerprint(key.get()));
  EXPECT_EQ(record.serial, pki::serial_hex(cert.get()));
  EXPECT_NE(record.requester.find("127.0.0.1:9"), std::string::npos);
  // The secret is single-use: another key cannot use it again.
  auto other = make_key();
  auto other_csr = pki::build_csr(other.get(), pki::parse_subject("CN=widget-001").get(),
                                  pki::Profile::device);
  expect_refused(enrol(other_csr.get(), s), Reason::secret_used, 1);
}

TEST_F(EstRoundTrip, ARetryWhoseAnswerWasLostGetsTheSameCertificate) {
  auto key = make_key();
  auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=widget-001").get(),
                            pki::Profile::device);
  std::string s = secret("CN=widget-001");
  auto first = issued(enrol(csr.get(), s));
  // The response was lost; the device asks again with the same secret and key
  // (a fresh CSR, as a device that restarted would build).
  auto again_csr = pki::build_csr(key.get(), pki::parse_subject("CN=widget-001").get(),
                                  pki::Profile::device);
  auto again = issued(enrol(again_csr.get(), s));
  EXPECT_EQ(pki::to_pem(again.get()), pki::to_pem(first.get()));
  EXPECT_EQ(log_->count(), 1) << "a retry issued a second certificate";
  EXPECT_NE(transcript_.str().find("a retry of an answered request"), std::string::npos);
}

TEST_F(EstRoundTrip, RefusedWithoutSecret) {
  auto key = make_key();
  auto response = enrol(make_csr(key.get(), {}).get(), "");
  expect_refused(response, Reason::secret_missing, 0);
  EXPECT_EQ(response.status, 401);
}

TEST_F(EstRoundTrip, RefusedWithUnknownSecret) {
  auto key = make_key();
  expect_refused(enrol(make_csr(key.get(), {}).get(), "0123456789abcdef"), Reason::secret_unknown, 0);
}

TEST_F(EstRoundTrip, RefusedWithExpiredSecret) {
  auto key = make_key();
  std::string s = secret("CN=widget-001", "device", std::nullopt, now() - std::chrono::seconds(1));
  expect_refused(enrol(make_csr(key.get(), {}).get(), s), Reason::secret_expired, 0);
}

TEST_F(EstRoundTrip, RefusedForSubjectTheSecretWasNotIssuedFor) {
  auto key = make_key();
  std::string s = secret("CN=widget-001");
  expect_refused(enrol(make_csr(key.get(), CsrSpec{"CN=widget-002", {}, false}).get(), s),
                 Reason::subject_mismatch, 0);
  // The refusal did not burn the secret: the right request still enrols.
  issued(enrol(make_csr(key.get(), {}).get(), s));
  EXPECT_EQ(log_->count(), 1);
}

TEST_F(EstRoundTrip, RefusedWithBadCsrSignature) {
  auto key = make_key();
  expect_refused(enrol(make_csr(key.get(), CsrSpec{"CN=widget-001", {}, true}).get(),
                       secret("CN=widget-001")),
                 Reason::csr_signature_invalid, 0);
}

TEST_F(EstRoundTrip, RefusedWithWeakRsaKey) {
  ossl::Ptr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
  expect_refused(enrol(make_csr(weak.get(), {}).get(), secret("CN=widget-001")),
                 Reason::weak_key, 0);
}

TEST_F(EstRoundTrip, RefusedWithUnknownCurve) {
  ossl::Ptr<EVP_PKEY> odd(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  expect_refused(enrol(make_csr(odd.get(), {}).get(), secret("CN=widget-001")),
                 Reason::weak_key, 0);
}

TEST_F(EstRoundTrip, RefusedWhenDeviceAsksToBeACa) {
  auto key = make_key();
  auto csr = make_csr(key.get(), CsrSpec{"CN=widget-001",
                                         {{NID_basic_constraints, "critical,CA:TRUE"}}, false});
  expect_refused(enrol(csr.get(), secret("CN=widget-001")), Reason::extension_not_allowed, 0);
}

TEST_F(EstRoundTrip, RefusedWithInvalidDeviceId) {
  auto key = make_key();
  expect_refused(enrol(make_csr(key.get(), CsrSpec{"CN=widget 001", {}, false}).get(),
                       secret("CN=widget 001")),
                 Reason::invalid_device_id, 0);
}

TEST_F(EstRoundTrip, PathLenZeroCaCannotSignACa) {
  auto key = make_key();
  auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=Rogue-Sub").get(),
                            pki::Profile::subordinate_ca);
  expect_refused(enrol(csr.get(), secret("CN=Rogue-Sub", "subordinate-ca")),
                 Reason::path_len_exceeded, 0);
}

TEST_F(EstRoundTrip, FactorySignsTechnicianWithPathLenZero) {
  start(1); // the CA under test is now a pathLen-1 CA, like Factory-Y
  auto key = make_key();
  auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=Technician-Z").get(),
                            pki::Profile::subordinate_ca, 0);
  auto cert = issued(enrol(csr.get(), secret("CN=Technician-Z", "subordinate-ca", 0)));
  EXPECT_TRUE(pki::is_ca(cert.get()));
  EXPECT_EQ(pki::path_len(cert.get()), 0);
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  // Asking for more than the issuer allows is refused.
  auto greedy = pki::build_csr(key.get(), pki::parse_subject("CN=Greedy").get(),
                               pki::Profile::subordinate_ca, 1);
  expect_refused(enrol(greedy.get(), secret("CN=Greedy", "subordinate-ca", 1)),
                 Reason::path_len_exceeded, 1);
}

TEST_F(EstRoundTrip, ReenrolWithCurrentCertificate) {
  auto key = make_key();
  auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=widget-001").get(),
                            pki::Profile::device);
  auto first = issued(enrol(csr.get(), secret("CN=widget-001")));
  auto new_key = make_key();
  auto renewal = pki::build_csr(new_key.get(), pki::parse_subject("CN=widget-001").get(),
                                pki::Profile::device);
  auto second = issued(reenrol(renewal.get(), first.get()));
  EXPECT_NE(pki::serial_hex(second.get()), pki::serial_hex(first.get()));
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(second.get()), new_key.get()), 1);
  EXPECT_EQ(log_->count(), 2);
}

TEST_F(EstRoundTrip, ReenrolRefusals) {
  auto key = make_key();
  auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=widget-001").get(),
                            pki::Profile::device);
  auto current = issued(enrol(csr.get(), secret("CN=widget-001")));

  expect_refused(reenrol(csr.get(), nullptr), Reason::client_cert_required, 1);
  expect_refused(reenrol(csr.get(), current.get(), "certificate has expired"),
                 Reason::client_cert_unknown, 1);
  // A look-alike with the same subject, issued elsewhere, is not ours.
  auto elsewhere = testing::make_sub_ca(root_, "CN=widget-001", 0);
  expect_refused(reenrol(csr.get(), elsewhere.certificate.get()), Reason::client_cert_unknown, 1);
  // Renewal keeps the subject: another name is refused.
  auto other = pki::build_csr(key.get(), pki::parse_subject("CN=widget-999").get(),
                              pki::Profile::device);
  expect_refused(reenrol(other.get(), current.get()), Reason::subject_mismatch, 1);
}

TEST_F(EstRoundTrip, ExpiredCaIssuesNothing) {
  ca_ = testing::make_sub_ca(root_, "CN=Old-Technician", 0, std::chrono::hours(-48),
                             std::chrono::hours(-1));
  pki::CertList chain;
  chain.push_back(ossl::up_ref(ca_.certificate.get()));
  authority_ = std::make_unique<ca::CertificateAuthority>(
      std::move(chain), ossl::up_ref(ca_.key.get()), *log_, narrator_);
  auto key = make_key();
  expect_refused(enrol(make_csr(key.get(), {}).get(), secret("CN=widget-001")),
                 Reason::issuer_expired, 0);
}

} // namespace
} // namespace chainlab
