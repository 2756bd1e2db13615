// Reason codes are a stable contract: names round-trip, and every reason
// maps to an HTTP status in the one mapping function.
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include "core/protocol_codes.hpp"
#include "core/reason.hpp"
#include "est/server.hpp"
#include "registry/issuance_log.hpp"

namespace chainlab {
namespace {

TEST(Reason, NamesRoundTripAndAreSnakeCase) {
  for (int i = 0; i <= int(Reason::internal_error); ++i) {
    auto reason = Reason(i);
    std::string name(to_string(reason));
    EXPECT_EQ(reason_from_string(name), reason) << name;
    for (char c : name)
      EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
  }
  EXPECT_FALSE(reason_from_string("no_such_reason"));
}

TEST(Reason, EveryReasonHasAnHttpStatus) {
  for (int i = 0; i <= int(Reason::internal_error); ++i) {
    int status = http_status(Reason(i));
    EXPECT_GE(status, 400) << to_string(Reason(i));
    EXPECT_LT(status, 600) << to_string(Reason(i));
  }
  EXPECT_EQ(http_status(Reason::secret_missing), 401);
  EXPECT_EQ(http_status(Reason::secret_used), 403);
  EXPECT_EQ(http_status(Reason::csr_signature_invalid), 400);
}

TEST(Reason, TlsAlertsAndConnackCodesComeFromOneMapping) {
  EXPECT_EQ(tls_alert(Reason::issuer_missing), SSL_AD_UNKNOWN_CA);
  EXPECT_EQ(tls_alert(Reason::ca_unverified), SSL_AD_UNKNOWN_CA);
  EXPECT_EQ(tls_alert(Reason::cert_expired), SSL_AD_CERTIFICATE_EXPIRED);
  EXPECT_EQ(tls_alert(Reason::wrong_purpose), SSL_AD_UNSUPPORTED_CERTIFICATE);
  EXPECT_EQ(tls_alert(Reason::client_cert_missing), SSL_AD_CERTIFICATE_REQUIRED);
  // After TLS every authorisation failure is CONNACK 5, so SDKs report an
  // authentication error; another protocol version gets 1, and a hub that
  // could not record the connection 3 (server unavailable: retry).
  for (auto reason : {Reason::device_id_mismatch, Reason::device_disabled,
                      Reason::device_not_registered, Reason::device_pending, Reason::unauthorized})
    EXPECT_EQ(connack_code(reason), 5) << to_string(reason);
  EXPECT_EQ(connack_code(Reason::malformed_packet), 1);
  EXPECT_EQ(connack_code(Reason::storage_failed), 3);
}

TEST(Reason, ErrorResponseCarriesCodeAndExplanation) {
  auto response = est::error_response(Error(Reason::secret_missing, "needs a secret"));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.header(est::kReasonHeader), "secret_missing");
  EXPECT_NE(response.header("WWW-Authenticate").find("Basic"), std::string::npos);
  EXPECT_EQ(response.body, "secret_missing: needs a secret\n");
}

TEST(Reason, UnusableStorageIsNamed) {
  try {
    registry::IssuanceLog log("/nonexistent-chainlab-dir/issuance.db");
    FAIL() << "opened a database in a directory that does not exist";
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::storage_failed);
    EXPECT_NE(error.detail().find("/nonexistent-chainlab-dir/issuance.db"), std::string::npos);
  }
}

} // namespace
} // namespace chainlab
