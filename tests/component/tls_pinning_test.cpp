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
           hours from = hours(-1), hours until = hours(24)) {
  Leaf leaf{nullptr, testing::make_key()};
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(leaf.key.get());
  plan.profile = profile;
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

} // namespace
} // namespace chainlab
