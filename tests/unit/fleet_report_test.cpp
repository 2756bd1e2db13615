// A fleet run that did nothing at all must end with an error (a CI job
// reads the exit status); any success, even among failures, is a report.
#include <gtest/gtest.h>

#include "device/fleet_load.hpp"

namespace chainlab::device {
namespace {

LoadReport report(const std::string &mode) {
  LoadReport r;
  r.mode = mode;
  r.seconds = 2.0;
  return r;
}

TEST(FleetReport, AnySuccessIsAReportNotAnError) {
  auto connects = report("connect-rate");
  connects.operations = 1;
  connects.failures["tls: certificate verify failed"] = 500;
  EXPECT_FALSE(nothing_succeeded(connects));
  auto held = report("hold");
  held.held = 3;
  EXPECT_FALSE(nothing_succeeded(held));
  auto quiet = report("telemetry"); // connected, no message due yet
  quiet.held = 2;
  EXPECT_FALSE(nothing_succeeded(quiet));
}

TEST(FleetReport, NothingReachedIsUnreachable) {
  auto r = report("connect-rate");
  r.failures["tcp: Connection refused"] = 9000;
  auto error = nothing_succeeded(r);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->reason(), Reason::peer_unreachable);
  EXPECT_NE(error->detail().find("9000 x tcp: Connection refused"), std::string::npos);
  EXPECT_NE(error->detail().find("--mode connect-rate"), std::string::npos);
}

TEST(FleetReport, EverythingRefusedIsARefusal) {
  auto r = report("hold");
  r.connects = 4; // connected once, then all dropped: nothing held at the end
  r.failures["tcp: Connection refused"] = 1;
  r.failures["tls: tlsv13 alert certificate required"] = 3;
  auto error = nothing_succeeded(r);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->reason(), Reason::peer_refused);
}

TEST(FleetReport, SilenceIsNamed) {
  auto error = nothing_succeeded(report("telemetry"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->reason(), Reason::peer_refused);
  EXPECT_NE(error->detail().find("nothing failed"), std::string::npos);
}

} // namespace
} // namespace chainlab::device
