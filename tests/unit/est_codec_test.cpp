// EST bodies and routing, without sockets.
#include <gtest/gtest.h>

#include "est/codec.hpp"
#include "est/server.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

TEST(CertsOnly, RoundTripKeepsOrder) {
  auto root = testing::make_root("CN=Company-X");
  auto factory = testing::make_sub_ca(root, "CN=Factory-Y", 1);
  pki::CertList certs;
  certs.push_back(ossl::up_ref(factory.certificate.get()));
  certs.push_back(ossl::up_ref(root.certificate.get()));
  auto decoded = est::decode_certs_only(est::encode_certs_only(certs), "test");
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(X509_cmp(decoded[0].get(), factory.certificate.get()), 0);
  EXPECT_EQ(X509_cmp(decoded[1].get(), root.certificate.get()), 0);
}

TEST(CertsOnly, MalformedBodiesNameTheSource) {
  for (std::string body : {"not base64 !!", "AAAA", "", "aGVsbG8gd29ybGQ="}) {
    try {
      est::decode_certs_only(body, "cacerts response from 127.0.0.1:1");
      FAIL() << "accepted \"" << body << "\"";
    } catch (const Error &error) {
      EXPECT_EQ(error.reason(), Reason::malformed_certificate) << body;
      EXPECT_NE(error.detail().find("127.0.0.1:1"), std::string::npos) << error.detail();
    }
  }
}

TEST(Csr, RoundTripAndMalformed) {
  auto key = testing::make_key();
  auto csr = testing::make_csr(key.get(), {});
  auto decoded = est::decode_csr(est::encode_csr(csr.get()), "test");
  EXPECT_EQ(X509_NAME_cmp(X509_REQ_get_subject_name(decoded.get()),
                          X509_REQ_get_subject_name(csr.get())),
            0);
  // Base64 with line breaks, as RFC 7030 bodies often come, is fine.
  std::string wrapped = est::encode_csr(csr.get());
  for (size_t i = 64; i < wrapped.size(); i += 65)
    wrapped.insert(i, "\n");
  EXPECT_NO_THROW(est::decode_csr(wrapped, "test"));

  std::string der = pki::to_der(csr.get());
  for (std::string body : {std::string("@@@@"), pki::base64_encode(der.substr(0, der.size() / 2)),
                           pki::base64_encode(der + "trailing")}) {
    try {
      est::decode_csr(body, "EST request body");
      FAIL() << "accepted a malformed CSR";
    } catch (const Error &error) {
      EXPECT_EQ(error.reason(), Reason::malformed_csr);
      EXPECT_NE(error.detail().find("EST request body"), std::string::npos);
    }
  }
}

TEST(BasicAuth, ExtractsPasswordOnly) {
  EXPECT_EQ(est::basic_password("Basic " + pki::base64_encode("widget-001:s3cret")), "s3cret");
  EXPECT_EQ(est::basic_password("Basic " + pki::base64_encode("user:pa:ss")), "pa:ss");
  EXPECT_EQ(est::basic_password("Bearer abc"), "");
  EXPECT_EQ(est::basic_password("Basic !!!"), "");
  EXPECT_EQ(est::basic_password(""), "");
}

// A fake authority: the handler's routing is tested without a CA.
struct RecordingAuthority : est::Authority {
  std::string last_secret;
  int enrolls = 0, reenrolls = 0;
  pki::CertList ca_certificates() override {
    pki::CertList certs;
    certs.push_back(ossl::up_ref(ca.certificate.get()));
    return certs;
  }
  Result<ossl::Ptr<X509>> simple_enroll(X509_REQ *, const std::string &secret,
                                        const est::Requester &) override {
    ++enrolls;
    last_secret = secret;
    return Error(Reason::secret_used, "fake refusal");
  }
  Result<ossl::Ptr<X509>> simple_reenroll(X509_REQ *, const est::Requester &) override {
    ++reenrolls;
    return ossl::up_ref(ca.certificate.get());
  }
  testing::TestCa ca = testing::make_root("CN=Fake");
};

HttpRequest post(const std::string &target, const std::string &body,
                 const std::string &type = "application/pkcs10") {
  return HttpRequest{"POST", target, {{"Content-Type", type}}, body};
}

TEST(EstHandler, Routing) {
  RecordingAuthority authority;
  est::Requester requester{"127.0.0.1:1", nullptr, ""};
  auto cacerts = est::handle_request(authority, {"GET", "/.well-known/est/cacerts", {}, ""}, requester);
  EXPECT_EQ(cacerts.status, 200);
  EXPECT_EQ(cacerts.header("content-type"), "application/pkcs7-mime");
  EXPECT_EQ(cacerts.header("Content-Transfer-Encoding"), "base64");
  EXPECT_EQ(est::decode_certs_only(cacerts.body, "t").size(), 1u);

  EXPECT_EQ(est::handle_request(authority, {"POST", "/.well-known/est/cacerts", {}, ""}, requester).status, 405);
  EXPECT_EQ(est::handle_request(authority, {"GET", "/.well-known/est/simpleenroll", {}, ""}, requester).status, 405);
  EXPECT_EQ(est::handle_request(authority, {"GET", "/.well-known/est/csrattrs", {}, ""}, requester).status, 404);
  EXPECT_EQ(est::handle_request(authority, {"GET", "/index.html", {}, ""}, requester).status, 404);
}

TEST(EstHandler, EnrolChecksContentTypeAndBodyBeforeTheAuthority) {
  RecordingAuthority authority;
  est::Requester requester{"127.0.0.1:1", nullptr, ""};
  auto key = testing::make_key();
  std::string body = est::encode_csr(testing::make_csr(key.get(), {}).get());

  auto wrong_type = est::handle_request(authority, post("/.well-known/est/simpleenroll", body, "text/plain"), requester);
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(wrong_type.header(est::kReasonHeader), "malformed_request");
  auto garbage = est::handle_request(authority, post("/.well-known/est/simpleenroll", "%%%"), requester);
  EXPECT_EQ(garbage.header(est::kReasonHeader), "malformed_csr");
  EXPECT_EQ(authority.enrolls, 0);

  HttpRequest request = post("/.well-known/est/simpleenroll", body);
  request.headers.emplace_back("Authorization", "Basic " + pki::base64_encode("widget-001:abc"));
  auto refused = est::handle_request(authority, request, requester);
  EXPECT_EQ(authority.enrolls, 1);
  EXPECT_EQ(authority.last_secret, "abc");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.header(est::kReasonHeader), "secret_used");
  EXPECT_NE(refused.body.find("fake refusal"), std::string::npos);

  auto renewed = est::handle_request(authority, post("/.well-known/est/simplereenroll", body), requester);
  EXPECT_EQ(renewed.status, 200);
  EXPECT_EQ(renewed.header("Content-Type"), "application/pkcs7-mime; smime-type=certs-only");
  EXPECT_EQ(authority.reenrolls, 1);
}

} // namespace
} // namespace chainlab
