// The device handshake as the hub runs it, without sockets: a real TLS 1.3
// client and the hub's server context over a memory BIO pair, the
// certificate-verify callback taking the one decision on a tenant
// snapshot. Every authentication outcome, with the alert the client hears.
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include "core/protocol_codes.hpp"
#include "device/impersonation.hpp"
#include "hub/device_handshake.hpp"
#include "net/memory_tls.hpp"
#include "net/tls_context.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using std::chrono::hours;
using testing::TestCa;
using testing::issue_leaf;

pki::CertList list(std::initializer_list<X509 *> certs) {
  pki::CertList out;
  for (X509 *cert : certs)
    out.push_back(ossl::up_ref(cert));
  return out;
}

registry::CaRecord ca(const std::string &name, const TestCa &root, bool verified = true,
                      bool enabled = true, const std::string &change = "same-issuer") {
  registry::CaRecord record;
  record.name = name;
  record.certificate_pem = pki::to_pem(root.certificate.get());
  record.verified = verified;
  record.enabled = enabled;
  record.certificate_change = change;
  return record;
}

// What a device presents: its certificate, the chain above it, the key it
// signs CertificateVerify with (none: it presents no certificate at all).
struct Presented {
  X509 *leaf = nullptr;
  pki::CertList chain;
  EVP_PKEY *key = nullptr;
};

// Outcome: what the hub concluded, and what the client heard.
struct Outcome {
  bool tls_completed = false;
  int client_alert = 0; // the alert the client received, 0 if none
  bool resumable = false; // the client holds a session it could resume
  std::optional<hub::ChainJudgement> judged;
  std::optional<Error> failure; // failed_handshake_reason's, if TLS failed

  // refusal: the reason the device is refused, in TLS or at CONNECT.
  std::optional<Reason> refusal() const {
    if (judged && !judged->verdict.ok())
      return judged->verdict.error().reason();
    if (failure)
      return failure->reason();
    return std::nullopt;
  }
  std::string explanation() const {
    if (judged && !judged->verdict.ok())
      return judged->verdict.error().what();
    return failure ? failure->what() : "accepted";
  }
};

// HubEnd: the server context as the gateway configures it, asking its
// snapshot through the same verify glue.
struct HubEnd {
  HubEnd(const TestCa &hub_ca) {
    server_key = testing::make_key();
    server_cert = issue_leaf(hub_ca, "CN=localhost", server_key.get(), pki::Profile::tls_server);
    context = net::make_server_context({server_cert.get(), nullptr, server_key.get()}, nullptr);
    hub::require_device_certificates(context.get(), &HubEnd::verify, this);
  }
  static int verify(X509_STORE_CTX *store_ctx, void *arg) {
    auto &self = *static_cast<HubEnd *>(arg);
    self.judged.emplace(
        hub::judge_presented_chain(*self.snapshot, store_ctx, std::chrono::system_clock::now()));
    return self.judged->proceeds() ? 1 : 0;
  }

  ossl::Ptr<EVP_PKEY> server_key;
  ossl::Ptr<X509> server_cert;
  ossl::Ptr<SSL_CTX> context;
  const hub::TenantSnapshot *snapshot = nullptr;
  std::optional<hub::ChainJudgement> judged;
};

ossl::Ptr<SSL_CTX> device_context(const Presented &device) {
  ossl::Ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(context.get(), TLS1_3_VERSION);
  SSL_CTX_set_security_level(context.get(), 0); // weak certificates are the hub's to refuse
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  if (device.leaf) {
    EXPECT_EQ(SSL_CTX_use_certificate(context.get(), device.leaf), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(context.get(), device.key), 1);
    for (const auto &cert : device.chain)
      SSL_CTX_add1_chain_cert(context.get(), cert.get());
  }
  return context;
}

Outcome handshake(HubEnd &hub_end, const hub::TenantSnapshot &snapshot, SSL_CTX *client_ctx) {
  hub_end.snapshot = &snapshot;
  hub_end.judged.reset();
  auto run = net::run_memory_handshake(client_ctx, hub_end.context.get());
  Outcome outcome;
  outcome.tls_completed = run.completed();
  outcome.client_alert = run.client_alert;
  if (SSL_SESSION *session = SSL_get0_session(run.client.get()))
    outcome.resumable = SSL_SESSION_is_resumable(session) == 1;
  outcome.judged = std::move(hub_end.judged);
  if (!outcome.tls_completed)
    outcome.failure = hub::failed_handshake_reason(
        outcome.judged ? &*outcome.judged : nullptr, SSL_get0_peer_certificate(run.server.get()),
        "memory", "handshake failed");
  return outcome;
}

Outcome connect(HubEnd &hub_end, const hub::TenantSnapshot &snapshot, const Presented &device) {
  auto client_ctx = device_context(device);
  return handshake(hub_end, snapshot, client_ctx.get());
}

class DeviceHandshake : public ::testing::Test {
protected:
  hub::TenantSnapshot snapshot(std::vector<registry::CaRecord> cas) const {
    hub::TenantSnapshot out;
    out.hub = "contoso";
    out.cas = hub::CaTrust::from(cas);
    return out;
  }
  hub::TenantSnapshot standard() const { return snapshot({ca("company-x", company_)}); }
  pki::CertList chain_under(const TestCa &issuer) const {
    return list({issuer.certificate.get(), factory_.certificate.get()});
  }
  Presented widget() const { return {widget_.get(), chain_under(technician_), key_.get()}; }
  // registered: |snapshot| after widget-001's first accepted connection.
  hub::TenantSnapshot registered(hub::TenantSnapshot snapshot) {
    auto first = connect(hub_, snapshot, widget());
    EXPECT_TRUE(first.tls_completed);
    EXPECT_TRUE(first.judged && first.judged->verdict.ok());
    if (first.judged && first.judged->verdict.ok())
      snapshot.devices = snapshot.devices.with(first.judged->verdict.value().device);
    return snapshot;
  }
  // expect_alert: refused in TLS, with the alert the reason maps to.
  void expect_alert(const Outcome &outcome, Reason reason) {
    EXPECT_FALSE(outcome.tls_completed);
    ASSERT_TRUE(outcome.refusal()) << "accepted";
    EXPECT_EQ(*outcome.refusal(), reason) << outcome.explanation();
    EXPECT_EQ(outcome.client_alert, tls_alert(reason));
  }
  // expect_connack_refusal: TLS completes; CONNECT will be refused.
  void expect_connack_refusal(const Outcome &outcome, Reason reason) {
    EXPECT_TRUE(outcome.tls_completed);
    EXPECT_EQ(outcome.client_alert, 0);
    ASSERT_TRUE(outcome.refusal()) << "accepted";
    EXPECT_EQ(*outcome.refusal(), reason) << outcome.explanation();
    EXPECT_TRUE(answered_after_tls(reason));
  }
  const hub::AuthenticatedDevice &accepted(const Outcome &outcome) {
    EXPECT_TRUE(outcome.tls_completed);
    EXPECT_FALSE(outcome.refusal()) << outcome.explanation();
    static const hub::AuthenticatedDevice none;
    return outcome.judged && outcome.judged->verdict.ok() ? outcome.judged->verdict.value() : none;
  }

  TestCa company_ = testing::make_root("CN=Company-X");
  TestCa factory_ = testing::make_sub_ca(company_, "CN=Factory-Y", 1);
  TestCa technician_ = testing::make_sub_ca(factory_, "CN=Technician-Z", 0);
  TestCa technician_w_ = testing::make_sub_ca(factory_, "CN=Technician-W", 0);
  TestCa hub_ca_ = testing::make_root("CN=Hub TLS CA");
  ossl::Ptr<EVP_PKEY> key_ = testing::make_key();
  ossl::Ptr<X509> widget_ = issue_leaf(technician_, "CN=widget-001", key_.get());
  HubEnd hub_{hub_ca_};
};

TEST_F(DeviceHandshake, FirstConnectionThenReconnection) {
  auto first = accepted(connect(hub_, standard(), widget()));
  EXPECT_EQ(first.binding, hub::Binding::new_device);
  EXPECT_EQ(first.device.ca_name, "company-x");
  EXPECT_EQ(first.device.chain_subjects, "CN=widget-001 <- CN=Technician-Z <- CN=Factory-Y <- CN=Company-X");
  auto again = accepted(connect(hub_, registered(standard()), widget()));
  EXPECT_EQ(again.binding, hub::Binding::same_certificate);
}

TEST_F(DeviceHandshake, NoSessionToResumeSoEveryConnectionIsJudged) {
  auto outcome = connect(hub_, standard(), widget());
  accepted(outcome);
  EXPECT_FALSE(outcome.resumable);
}

TEST_F(DeviceHandshake, AConnectionKeepsItsIdentityNotThePresentedChain) {
  auto snapshot = standard();
  hub_.snapshot = &snapshot;
  auto client = device_context(widget());
  auto run = net::run_memory_handshake(client.get(), hub_.context.get());
  ASSERT_TRUE(run.completed());
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(run.server.get());
  ASSERT_NE(chain, nullptr);
  EXPECT_GE(sk_X509_num(chain), 2); // the intermediates, as sent
  hub::release_peer_chain(run.server.get());
  EXPECT_EQ(sk_X509_num(SSL_get_peer_cert_chain(run.server.get())), 0);
  EXPECT_NE(SSL_get0_peer_certificate(run.server.get()), nullptr); // OpenSSL keeps the leaf
}

TEST_F(DeviceHandshake, EveryChainReasonIsATlsAlert) {
  auto other = testing::make_key();
  TestCa rogue = testing::make_root("CN=Factory-Y");
  TestCa too_deep = testing::make_sub_ca(technician_, "CN=Sub-Installer", 0);
  auto tampered_der = pki::to_der(widget_.get());
  tampered_der[tampered_der.size() - 8] ^= 0x01;
  ossl::Ptr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
  auto sha1 = issue_leaf(technician_, "CN=widget-sha1", other.get());
  X509_sign(sha1.get(), technician_.key.get(), EVP_sha1());
  auto expired = issue_leaf(technician_, "CN=widget-old", other.get(), pki::Profile::device,
                       hours(-48), hours(-1));
  auto future = issue_leaf(technician_, "CN=widget-new", other.get(), pki::Profile::device,
                      hours(24), hours(48));
  auto server_only = issue_leaf(technician_, "CN=widget-srv", other.get(), pki::Profile::tls_server);
  auto rogue_device = issue_leaf(rogue, "CN=widget-666", other.get());
  auto deep_device = issue_leaf(too_deep, "CN=widget-deep", other.get());
  auto weak_device = issue_leaf(technician_, "CN=widget-weak", weak.get());
  auto tampered = pki::parse_certificate(tampered_der, "tampered");
  auto bad_id = issue_leaf(technician_, "CN=widget 001", other.get());
  auto under_technician = chain_under(technician_);
  struct Case {
    std::string name;
    Reason reason;
    Presented device;
  };
  std::vector<Case> cases;
  cases.push_back({"no intermediates", Reason::issuer_missing, {widget_.get(), {}, key_.get()}});
  cases.push_back({"unknown root", Reason::ca_unknown,
                   {rogue_device.get(), list({rogue.certificate.get()}), other.get()}});
  cases.push_back({"expired", Reason::cert_expired, {expired.get(), chain_under(technician_), other.get()}});
  cases.push_back({"not yet valid", Reason::cert_not_yet_valid,
                   {future.get(), chain_under(technician_), other.get()}});
  cases.push_back({"server certificate", Reason::wrong_purpose,
                   {server_only.get(), chain_under(technician_), other.get()}});
  cases.push_back({"path too long", Reason::path_len_exceeded,
                   {deep_device.get(),
                    list({too_deep.certificate.get(), technician_.certificate.get(),
                          factory_.certificate.get()}),
                    other.get()}});
  cases.push_back({"tampered", Reason::signature_invalid,
                   {tampered.get(), chain_under(technician_), key_.get()}});
  cases.push_back({"weak key", Reason::weak_key,
                   {weak_device.get(), chain_under(technician_), weak.get()}});
  cases.push_back({"sha-1", Reason::weak_signature, {sha1.get(), chain_under(technician_), other.get()}});
  cases.push_back({"not a device id", Reason::invalid_device_id,
                   {bad_id.get(), chain_under(technician_), other.get()}});
  auto snapshot = standard();
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    expect_alert(connect(hub_, snapshot, c.device), c.reason);
  }
}

TEST_F(DeviceHandshake, UnverifiedAndDisabledCasAreRefusedInTls) {
  expect_alert(connect(hub_, snapshot({ca("company-x", company_, false)}), widget()),
               Reason::ca_unverified);
  auto disabled = registered(standard());
  disabled.cas = hub::CaTrust::from({ca("company-x", company_, true, false)});
  expect_alert(connect(hub_, disabled, widget()), Reason::ca_disabled);
}

TEST_F(DeviceHandshake, DisabledDeviceIsToldAtConnect) {
  auto snapshot = registered(standard());
  auto record = *snapshot.devices.find("widget-001");
  record.enabled = false;
  snapshot.devices = snapshot.devices.with(record);
  expect_connack_refusal(connect(hub_, snapshot, widget()), Reason::device_disabled);
}

TEST_F(DeviceHandshake, ThumbprintRegistrationAdmitsOnlyThatCertificate) {
  TestCa own = testing::make_root("CN=sensor-7");
  auto impostor_key = testing::make_key();
  auto impostor = issue_leaf(technician_, "CN=sensor-7", impostor_key.get());
  auto snapshot = standard();
  registry::DeviceRecord record;
  record.device_id = "sensor-7";
  record.registration = "thumbprint";
  record.thumbprint = pki::sha256_fingerprint(own.certificate.get());
  snapshot.devices = snapshot.devices.with(record);
  auto admitted = accepted(connect(hub_, snapshot, {own.certificate.get(), {}, own.key.get()}));
  EXPECT_EQ(admitted.authentication, "thumbprint");
  expect_connack_refusal(
      connect(hub_, snapshot, {impostor.get(), chain_under(technician_), impostor_key.get()}),
      Reason::identity_conflict);
}

TEST_F(DeviceHandshake, IdentityConflictUnderEachCertificateChangePolicy) {
  auto new_key = testing::make_key();
  auto renewed = issue_leaf(technician_, "CN=widget-001", new_key.get());
  auto duplicate = issue_leaf(technician_w_, "CN=widget-001", new_key.get());
  Presented renewal{renewed.get(), chain_under(technician_), new_key.get()};
  Presented takeover{duplicate.get(), chain_under(technician_w_), new_key.get()};
  struct Case {
    std::string policy;
    bool renewal_ok, takeover_ok;
  };
  for (const auto &c : {Case{"any", true, true}, Case{"same-issuer", true, false},
                        Case{"pinned", false, false}}) {
    SCOPED_TRACE(c.policy);
    auto snapshot = registered(this->snapshot({ca("company-x", company_, true, true, c.policy)}));
    auto renewal_outcome = connect(hub_, snapshot, renewal);
    auto takeover_outcome = connect(hub_, snapshot, takeover);
    if (c.renewal_ok)
      EXPECT_EQ(accepted(renewal_outcome).binding, hub::Binding::certificate_change);
    else
      expect_connack_refusal(renewal_outcome, Reason::identity_conflict);
    if (c.takeover_ok)
      EXPECT_EQ(accepted(takeover_outcome).binding, hub::Binding::certificate_change);
    else
      expect_connack_refusal(takeover_outcome, Reason::identity_conflict);
  }
}

TEST_F(DeviceHandshake, DisabledIntermediateRefusesItsNewDevices) {
  auto snapshot = standard();
  snapshot.disabled_intermediates.push_back(
      {"CN=Technician-Z", pki::key_fingerprint(X509_get0_pubkey(technician_.certificate.get()))});
  expect_alert(connect(hub_, snapshot, widget()), Reason::intermediate_disabled);
  auto sibling_key = testing::make_key();
  auto sibling = issue_leaf(technician_w_, "CN=widget-002", sibling_key.get());
  accepted(connect(hub_, snapshot, {sibling.get(), chain_under(technician_w_), sibling_key.get()}));
}

TEST_F(DeviceHandshake, CopiedCertificateWithoutItsKeyIsPopFailed) {
  auto thief_key = testing::make_key();
  auto facade = device::impersonating_key(widget_.get(), thief_key.get());
  auto outcome = connect(hub_, registered(standard()), {widget_.get(), chain_under(technician_), facade.get()});
  EXPECT_FALSE(outcome.tls_completed);
  ASSERT_TRUE(outcome.judged);
  EXPECT_TRUE(outcome.judged->verdict.ok()); // the chain alone was sound
  ASSERT_TRUE(outcome.refusal());
  EXPECT_EQ(*outcome.refusal(), Reason::pop_failed);
  EXPECT_EQ(outcome.client_alert, SSL_AD_DECRYPT_ERROR);
}

// A device certificate whose key does not decode (a P-256 point off the
// curve), validly signed by Technician-Z, in a live handshake: refused in TLS
// with a reason and its alert. OpenSSL will not configure such a certificate,
// so the client's is altered after set-up, as a hand-made client could send
// it. Explaining this refusal once read the missing key and ended the process
// (found by the device_chain fuzz target; this test crashed without the fix).
TEST_F(DeviceHandshake, ALeafWhoseKeyDoesNotDecodeIsRefusedInTls) {
  auto key = testing::make_key();
  auto leaf = issue_leaf(technician_, "CN=widget-009", key.get());
  auto client = device_context({leaf.get(), chain_under(technician_), key.get()});
  ASSERT_TRUE(testing::put_key_off_curve(leaf.get()));
  ASSERT_GT(X509_sign(leaf.get(), technician_.key.get(), EVP_sha256()), 0);
  auto outcome = handshake(hub_, standard(), client.get());
  expect_alert(outcome, Reason::weak_key);
  EXPECT_NE(outcome.explanation().find("CN=widget-009 (at depth 0)"), std::string::npos)
      << outcome.explanation();
  EXPECT_NE(outcome.explanation().find("no key that decodes"), std::string::npos)
      << outcome.explanation();
}

TEST_F(DeviceHandshake, NoCertificateIsClientCertMissing) {
  auto outcome = connect(hub_, standard(), Presented{});
  EXPECT_FALSE(outcome.tls_completed);
  EXPECT_FALSE(outcome.judged);
  ASSERT_TRUE(outcome.refusal());
  EXPECT_EQ(*outcome.refusal(), Reason::client_cert_missing);
  EXPECT_EQ(outcome.client_alert, SSL_AD_CERTIFICATE_REQUIRED);
}

} // namespace
} // namespace chainlab
