// core/http_message: numeric query parameters, as every API reads them.
#include <gtest/gtest.h>

#include "core/http_message.hpp"

namespace chainlab {
namespace {

TEST(NumberParameter, ReadsWholeNumbersWithinTheirRange) {
  EXPECT_EQ(*number_parameter("/events?after=42&limit=7", "after", 0, 100), 42);
  EXPECT_EQ(*number_parameter("/events?after=42&limit=7", "limit", 1000, 1000), 7);
  EXPECT_EQ(*number_parameter("/events?limit=0", "limit", 1000, 1000), 0);
  EXPECT_EQ(*number_parameter("/events?limit=1000", "limit", 5, 1000), 1000);
  EXPECT_EQ(*number_parameter("/ct/v1/get-entries?start=9223372036854775807", "start",
                              std::nullopt, INT64_MAX),
            INT64_MAX);
}

TEST(NumberParameter, AMissingOneIsItsDefaultOrRefusedWhenRequired) {
  EXPECT_EQ(*number_parameter("/events", "after", 0, 100), 0);
  EXPECT_EQ(*number_parameter("/events?after=", "after", 3, 100), 3);
  auto required = number_parameter("/ct/v1/get-sth-consistency?first=1", "second",
                                   std::nullopt, INT64_MAX);
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().reason(), Reason::malformed_request);
  EXPECT_NE(required.error().detail().find("\"second\""), std::string::npos);
}

TEST(NumberParameter, AnythingElseIsAMalformedRequestNamingTheParameter) {
  for (const char *value : {"-1", "1001", "12x", "x12", "1.5", "+3", " 3", "0x10", "%2D1",
                            "99999999999999999999999999"}) {
    SCOPED_TRACE(value);
    auto read = number_parameter(std::string("/devices?limit=") + value, "limit", 1000, 1000);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().reason(), Reason::malformed_request);
    EXPECT_NE(read.error().detail().find("\"limit\""), std::string::npos);
  }
}

} // namespace
} // namespace chainlab
