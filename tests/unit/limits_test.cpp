// Hostile input that once crashed a server, each refused with its reason.
#include <gtest/gtest.h>

#include "core/secrets.hpp"
#include "est/codec.hpp"
#include "hub/connection_limits.hpp"
#include "hub/device_json.hpp"
#include "net/http_codec.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"
#include "scenarios/scenario_file.hpp"

namespace chainlab {
namespace {

Reason decode_refusal(const std::string &text) {
  try {
    pki::base64_decode(text, "test body");
  } catch (const Error &error) {
    return error.reason();
  }
  return Reason::internal_error;
}

TEST(Base64, MalformedPaddingIsRefusedNotThrownAsLengthError) {
  for (std::string bad : {"====", "=", "A===", "AB=C", "ABC", "AB*D", "=AAA"})
    EXPECT_EQ(decode_refusal(bad), Reason::malformed_request) << bad;
  EXPECT_EQ(pki::base64_decode("QUJD", "x"), "ABC");
  EXPECT_EQ(pki::base64_decode("QUI=", "x"), "AB");
  EXPECT_EQ(pki::base64_decode("QQ==", "x"), "A");
  EXPECT_EQ(pki::base64_decode("", "x"), "");
}

TEST(Base64, EstBodyOfPaddingIsAMalformedRequest) {
  try {
    est::decode_csr("====", "EST request body");
    FAIL() << "decoded ====";
  } catch (const Error &error) { // a 400 naming the body, not a length_error
    EXPECT_EQ(error.reason(), Reason::malformed_csr);
  }
}

TEST(HttpRequest, NothingOrPartBeforeTheCloseIsNeitherARequestNorARefusal) {
  for (std::string bytes : {"", "G", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"}) {
    net::ParsedRequest parsed = net::parse_request(bytes);
    EXPECT_FALSE(parsed.request) << bytes;
    EXPECT_FALSE(parsed.refusal) << bytes;
    EXPECT_FALSE(parsed.error.empty()) << bytes;
  }
  net::ParsedRequest whole = net::parse_request("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(whole.request);
  EXPECT_EQ(whole.request->target, "/x");
}

TEST(DeviceJson, DepthIsCountedWithoutParsing) {
  EXPECT_EQ(hub::json_depth("{}", 10), 1u);
  EXPECT_EQ(hub::json_depth("{\"a\":[{\"b\":1}]}", 10), 3u);
  EXPECT_EQ(hub::json_depth("{\"a\":\"[[[[{{{{\\\"\"}", 10), 1u); // brackets in strings
  std::string deep(60000, '[');
  EXPECT_GT(hub::json_depth(deep, 10), 10u);
}

TEST(DeviceJson, LimitsAreNamed) {
  std::string deep = std::string(60000, '[') + std::string(60000, ']');
  auto refused = hub::parse_device_json(deep, "the patch", "widget-001", 1 << 20);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), Reason::limit_exceeded);
  EXPECT_NE(refused.error().detail().find("10 levels"), std::string::npos);
  std::string eleven = std::string(11, '[') + std::string(11, ']');
  EXPECT_FALSE(hub::parse_device_json(eleven, "the patch", "widget-001", 1024).ok());
  std::string ten = std::string(10, '[') + std::string(10, ']');
  EXPECT_TRUE(hub::parse_device_json(ten, "the patch", "widget-001", 1024).ok());
  std::string big = "{\"a\":\"" + std::string(hub::kMaxReportedBytes, 'x') + "\"}";
  auto too_big = hub::parse_device_json(big, "the patch", "widget-001", hub::kMaxReportedBytes);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().reason(), Reason::limit_exceeded);
  EXPECT_NE(too_big.error().detail().find("32768 bytes"), std::string::npos);
  EXPECT_EQ(hub::parse_device_json("{", "the patch", "w", 10).error().reason(),
            Reason::malformed_request);
}

TEST(DeviceJson, InvalidUtf8IsRenderedNotThrown) {
  nlohmann::json value = std::string("\xff\xfe binary");
  EXPECT_NO_THROW(hub::dump_json(value));
}

TEST(Secrets, ConstantTimeComparison) {
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_TRUE(secrets_equal("", ""));
}

// Found by fuzzing: times past what the clock holds (year 2262) overflowed
// in the conversion. Certificates say 9999-12-31 for "never expires".
TEST(Times, FarFutureSaturatesInsteadOfOverflowing) {
  auto far = pki::parse_time("3590-01-01T00:00:00Z");
  ASSERT_TRUE(far.has_value());
  EXPECT_GT(*far, *pki::parse_time("2262-01-01T00:00:00Z"));
  auto ca = testing::make_root("CN=Forever");
  ASSERT_EQ(ASN1_TIME_set_string(X509_getm_notAfter(ca.certificate.get()), "99991231235959Z"), 1);
  EXPECT_GT(pki::not_after(ca.certificate.get()), *pki::parse_time("2262-01-01T00:00:00Z"));
  EXPECT_EQ(pki::format_time(pki::not_after(ca.certificate.get())).substr(0, 4), "2262");
}

// Found by fuzzing: a number out of a double's range in a scenario file.
TEST(ScenarioFile, NumberOverflowIsConfigInvalidNamingTheFile) {
  try {
    scenario::parse_scenario_text(R"({"name": "big", "timeout_seconds": 1e999})", "big.json");
    FAIL() << "1e999 was accepted";
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::config_invalid);
    EXPECT_NE(error.detail().find("big.json"), std::string::npos) << error.detail();
  }
}

TEST(ConnectionLimits, OneAddressCannotHoldMoreUnauthenticatedThanItsShare) {
  auto limits = std::make_shared<hub::ConnectionLimits>(hub::ConnectionLimitSettings{10, 2});
  auto first = limits->admit("10.0.0.1"), second = limits->admit("10.0.0.1");
  ASSERT_TRUE(first && second);
  auto third = limits->admit("10.0.0.1");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().reason(), Reason::limit_exceeded);
  EXPECT_NE(third.error().detail().find("--max-unauthenticated-per-address 2"), std::string::npos)
      << third.error().detail();
  EXPECT_TRUE(limits->admit("10.0.0.2")) << "another address has its own share";
  first.value()->authenticated(); // a device that authenticated frees its address's share
  EXPECT_EQ(limits->unauthenticated("10.0.0.1"), 1u);
  EXPECT_TRUE(limits->admit("10.0.0.1"));
}

TEST(ConnectionLimits, TheHubHoldsAtMostItsMaximumAndFreesPlacesOnClose) {
  auto limits = std::make_shared<hub::ConnectionLimits>(hub::ConnectionLimitSettings{3, 3});
  std::vector<std::shared_ptr<hub::ConnectionLimits::Place>> held;
  for (const char *address : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    auto place = limits->admit(address);
    ASSERT_TRUE(place);
    place.value()->authenticated();
    held.push_back(place.value());
  }
  auto over = limits->admit("10.0.0.4");
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().detail().find("--max-connections 3"), std::string::npos);
  held.pop_back(); // a connection closes
  EXPECT_EQ(limits->open(), 2u);
  EXPECT_TRUE(limits->admit("10.0.0.4"));
  EXPECT_EQ(limits->unauthenticated("10.0.0.1"), 0u);
}

} // namespace
} // namespace chainlab
