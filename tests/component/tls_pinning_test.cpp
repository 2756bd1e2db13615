// Client and server handshake in one process over a memory BIO pair: the
// pinned-fingerprint trust an enrolling party places in its CA, and the
// optional client certificate a CA reads for simplereenroll.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "net/memory_tls.hpp"
#include "net/tls_context.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using std::chrono::hours;

struct Leaf {
  ossl::Ptr<X509> certificate;
  ossl::Ptr<EVP_PKEY> key;
};

Leaf issue(const testing::TestCa &ca, pki::Profile profile, const std::string &subject,
           hours from = hours(-1), hours until = hours(24),
           const std::string &alt_name = "IP:127.0.0.1,DNS:localhost") {
  Leaf leaf{nullptr, testing::make_key()};
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(leaf.key.get());
  plan.profile = profile;
  plan.subject_alt_name = alt_name;
  plan.not_before = std::chrono::system_clock::now() + from;
  plan.not_after = std::chrono::system_clock::now() + until;
  leaf.certificate = pki::sign_certificate(plan, ca.certificate.get(), ca.key.get());
  return leaf;
}

// handshake runs both ends over memory; true if both finished.
bool handshake(SSL_CTX *client_ctx, SSL_CTX *server_ctx, ossl::Ptr<SSL> *out_server = nullptr) {
  auto run = net::run_memory_handshake(client_ctx, server_ctx);
  if (out_server)
    *out_server = std::move(run.server);
  return run.completed();
}

class TlsPinning : public ::testing::Test {
protected:
  ossl::Ptr<SSL_CTX> server_context(const Leaf &leaf, const testing::TestCa &ca,
                                    X509 *client_ca = nullptr) {
    chain_.clear();
    chain_.push_back(ossl::up_ref(ca.certificate.get()));
    return net::make_server_context({leaf.certificate.get(), &chain_, leaf.key.get()}, client_ca);
  }
  std::string pin(const testing::TestCa &ca) {
    return pki::sha256_fingerprint(ca.certificate.get());
  }

  testing::TestCa company_ = testing::make_root("CN=Company-X");
  Leaf est_server_ = issue(company_, pki::Profile::tls_server, "CN=127.0.0.1");
  pki::CertList chain_;
};

TEST_F(TlsPinning, TrustsTheServerWhoseChainHoldsThePinnedCa) {
  auto server = server_context(est_server_, company_);
  net::PinnedClientContext client(pin(company_), "127.0.0.1");
  EXPECT_TRUE(handshake(client.get(), server.get()));
  EXPECT_EQ(client.failure(), "");
}

TEST_F(TlsPinning, RefusesAnImpostorWithALookAlikeCa) {
  // Same subject, different key: only the fingerprint tells them apart.
  auto rogue = testing::make_root("CN=Company-X");
  auto rogue_leaf = issue(rogue, pki::Profile::tls_server, "CN=127.0.0.1");
  auto server = server_context(rogue_leaf, rogue);
  net::PinnedClientContext client(pin(company_), "127.0.0.1");
  EXPECT_FALSE(handshake(client.get(), server.get()));
  EXPECT_NE(client.failure().find("pinned SHA-256 fingerprint"), std::string::npos)
      << client.failure();
}

TEST_F(TlsPinning, RefusesAServerPresentingThePinnedCaWithAForgedLeaf) {
  // The real CA certificate is public; presenting it proves nothing.
  auto rogue = testing::make_root("CN=Rogue");
  auto forged = issue(rogue, pki::Profile::tls_server, "CN=127.0.0.1");
  auto server = server_context(forged, company_); // sends the real CA cert along
  net::PinnedClientContext client(pin(company_), "127.0.0.1");
  EXPECT_FALSE(handshake(client.get(), server.get()));
  EXPECT_NE(client.failure().find("does not verify up to the pinned CA"), std::string::npos)
      << client.failure();
}

TEST_F(TlsPinning, RefusesAnExpiredServerCertificate) {
  auto expired = issue(company_, pki::Profile::tls_server, "CN=127.0.0.1", hours(-48), hours(-1));
  auto server = server_context(expired, company_);
  net::PinnedClientContext client(pin(company_), "127.0.0.1");
  EXPECT_FALSE(handshake(client.get(), server.get()));
  EXPECT_NE(client.failure().find("expired"), std::string::npos) << client.failure();
}

TEST_F(TlsPinning, RefusesADeviceCertificateUsedAsServer) {
  auto device = issue(company_, pki::Profile::device, "CN=widget-001");
  auto server = server_context(device, company_);
  net::PinnedClientContext client(pin(company_), "127.0.0.1");
  EXPECT_FALSE(handshake(client.get(), server.get()));
  EXPECT_NE(client.failure().find("purpose"), std::string::npos) << client.failure();
}

TEST_F(TlsPinning, MalformedPinIsAConfigError) {
  try {
    net::PinnedClientContext client("AB:CD", "127.0.0.1");
    FAIL();
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::config_invalid);
  }
}

TEST_F(TlsPinning, ServerReadsTheClientCertificateVerdictAfterHandshake) {
  auto server = server_context(est_server_, company_, company_.certificate.get());
  auto device = issue(company_, pki::Profile::device, "CN=widget-001");
  net::TlsIdentity identity{device.certificate.get(), nullptr, device.key.get()};
  net::PinnedClientContext client(pin(company_), "127.0.0.1", &identity);
  ossl::Ptr<SSL> server_end;
  ASSERT_TRUE(handshake(client.get(), server.get(), &server_end));
  EXPECT_NE(SSL_get0_peer_certificate(server_end.get()), nullptr);
  EXPECT_EQ(SSL_get_verify_result(server_end.get()), X509_V_OK);

  // A certificate from another CA still completes the handshake, but the
  // verdict says why it is not trusted, for an explained refusal.
  auto stranger_ca = testing::make_root("CN=Stranger");
  auto stranger = issue(stranger_ca, pki::Profile::device, "CN=widget-001");
  net::TlsIdentity stranger_identity{stranger.certificate.get(), nullptr, stranger.key.get()};
  net::PinnedClientContext stranger_client(pin(company_), "127.0.0.1", &stranger_identity);
  ASSERT_TRUE(handshake(stranger_client.get(), server.get(), &server_end));
  EXPECT_NE(SSL_get_verify_result(server_end.get()), X509_V_OK);
}

// The pin remembers the last chain that verified, so that a load generator's
// thousands of handshakes with one server do not check its signatures each
// time; that memory must never change a verdict.
class PinMemory : public TlsPinning {
protected:
  PinMemory() {
    state_.fingerprint = pki::normalise_fingerprint(pin(company_));
    state_.expected_host = "127.0.0.1";
  }
  bool verify(X509 *leaf, std::chrono::system_clock::time_point when) {
    ossl::BorrowingX509StackPtr presented(sk_X509_new_null());
    sk_X509_push(presented.get(), company_.certificate.get());
    return net::verify_pinned_chain(leaf, presented.get(), state_, when);
  }
  // with_other_signature: |cert| with one bit of its signature flipped,
  // encoded and read again as a handshake would read it.
  static ossl::Ptr<X509> with_other_signature(X509 *cert) {
    ossl::Ptr<X509> copy(X509_dup(cert));
    const ASN1_BIT_STRING *signature = nullptr;
    X509_get0_signature(&signature, nullptr, copy.get());
    auto *bits = const_cast<ASN1_BIT_STRING *>(signature);
    bits->data[bits->length - 1] ^= 1;
    unsigned char *der = nullptr;
    int length = i2d_X509(copy.get(), &der);
    const unsigned char *read = der;
    ossl::Ptr<X509> reread(d2i_X509(nullptr, &read, length));
    OPENSSL_free(der);
    return reread;
  }

  net::PinnedClientContext::PinState state_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

TEST_F(PinMemory, RemembersAVerifiedChainOnlyWhileEveryCertificateIsValid) {
  ASSERT_TRUE(verify(est_server_.certificate.get(), now_)) << state_.failure;
  ASSERT_TRUE(state_.last_verified);
  EXPECT_TRUE(verify(est_server_.certificate.get(), now_ + std::chrono::hours(1)));
  EXPECT_FALSE(verify(est_server_.certificate.get(), now_ + std::chrono::hours(48)));
  EXPECT_NE(state_.failure.find("expired"), std::string::npos) << state_.failure;
  EXPECT_FALSE(verify(est_server_.certificate.get(), now_ - std::chrono::hours(2)));
  EXPECT_NE(state_.failure.find("not yet valid"), std::string::npos) << state_.failure;
}

TEST_F(PinMemory, ALeafWithOtherSignatureBytesIsCheckedInFull) {
  ASSERT_TRUE(verify(est_server_.certificate.get(), now_)) << state_.failure;
  auto tampered = with_other_signature(est_server_.certificate.get());
  ASSERT_TRUE(tampered);
  EXPECT_FALSE(verify(tampered.get(), now_));
  EXPECT_NE(state_.failure.find("signature failure"), std::string::npos) << state_.failure;
  EXPECT_TRUE(verify(est_server_.certificate.get(), now_)) << state_.failure;
}

TEST_F(PinMemory, AnotherServerAfterAVerifiedOneIsCheckedInFull) {
  ASSERT_TRUE(verify(est_server_.certificate.get(), now_)) << state_.failure;
  auto rogue = testing::make_root("CN=Rogue");
  auto forged = issue(rogue, pki::Profile::tls_server, "CN=127.0.0.1");
  EXPECT_FALSE(verify(forged.certificate.get(), now_));
  EXPECT_NE(state_.failure.find("does not verify up to the pinned CA"), std::string::npos)
      << state_.failure;
  auto elsewhere = issue(company_, pki::Profile::tls_server, "CN=127.0.0.1", hours(-1), hours(24),
                         "DNS:elsewhere.example");
  EXPECT_FALSE(verify(elsewhere.certificate.get(), now_));
  EXPECT_NE(state_.failure.find("IP address mismatch"), std::string::npos) << state_.failure;
}

} // namespace
} // namespace chainlab
