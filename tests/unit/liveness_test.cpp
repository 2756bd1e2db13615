// When a device connection is due for something: its deadline, and whether
// it keeps OpenSSL's record buffers (busy) or frees them (idle).
#include <gtest/gtest.h>

#include "hub/liveness.hpp"

namespace chainlab::hub {
namespace {

using namespace std::chrono_literals;
using Due = Liveness::Due;
const Liveness::Clock::time_point t0{std::chrono::hours(1)};

TEST(Liveness, ExpiresAtItsDeadlineAndOnlyThen) {
  Liveness live;
  live.set_deadline(t0 + 10s);
  EXPECT_EQ(live.next_wake(), t0 + 10s);
  EXPECT_EQ(live.due(t0 + 9s), Due::nothing);
  EXPECT_EQ(live.due(t0 + 10s), Due::expire);
}

TEST(Liveness, AMovedDeadlineIsWhatCountsAtTheWake) {
  // The timer woke for the old deadline; a packet had moved it since.
  Liveness live;
  live.set_deadline(t0 + 10s);
  live.set_deadline(t0 + 100s);
  EXPECT_EQ(live.due(t0 + 10s), Due::nothing);
  EXPECT_EQ(live.next_wake(), t0 + 100s);
}

TEST(Liveness, OneReadOrReadsFarApartLeaveTheBuffersFreed) {
  Liveness live;
  live.set_deadline(t0 + 90s);
  EXPECT_FALSE(live.heard(t0));          // CONNECT
  EXPECT_FALSE(live.heard(t0 + 60s));    // PINGREQ a keep-alive later
  EXPECT_FALSE(live.buffers_kept());
  EXPECT_EQ(live.next_wake(), t0 + 90s); // no wake for buffers
}

TEST(Liveness, TwoReadsCloseTogetherKeepTheBuffersUntilTheDeviceFallsSilent) {
  Liveness live;
  live.set_deadline(t0 + 90s);
  live.heard(t0);
  EXPECT_TRUE(live.heard(t0 + 100ms)); // became busy: keep them
  EXPECT_FALSE(live.heard(t0 + 200ms)); // already busy: nothing new to do
  EXPECT_TRUE(live.buffers_kept());
  EXPECT_EQ(live.next_wake(), t0 + 200ms + Liveness::kBusyWindow);
  EXPECT_EQ(live.due(t0 + 1s), Due::nothing);
  EXPECT_EQ(live.due(t0 + 200ms + Liveness::kBusyWindow), Due::release_buffers);
  EXPECT_FALSE(live.buffers_kept());
  EXPECT_EQ(live.next_wake(), t0 + 90s);
  EXPECT_EQ(live.due(t0 + 5s), Due::nothing); // released once, not again
}

TEST(Liveness, TheDeadlineWinsOverReleasingBuffers) {
  Liveness live;
  live.set_deadline(t0 + 1s);
  live.heard(t0);
  live.heard(t0 + 10ms);
  EXPECT_EQ(live.next_wake(), t0 + 1s);
  EXPECT_EQ(live.due(t0 + 3s), Due::expire);
}

} // namespace
} // namespace chainlab::hub
