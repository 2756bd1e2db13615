// When a busy committer waits for more writes: only when more than one
// writer is evidently at work, never for a lone write, and never once
// enough are waiting.
#include <gtest/gtest.h>

#include "registry/group_commit.hpp"

namespace chainlab::registry {
namespace {

TEST(GroupGathering, ALoneWriterIsNeverHeldBack) {
  Gathering gathering;
  EXPECT_FALSE(gathering.worth_waiting(0, 1)) << "the first write after idle";
  EXPECT_FALSE(gathering.worth_waiting(1, 1)) << "one write after one: one writer at a time";
}

TEST(GroupGathering, MoreThanOneWriterAtWorkIsWorthWaitingFor) {
  Gathering gathering;
  EXPECT_TRUE(gathering.worth_waiting(1, 2)) << "two writes already waiting";
  EXPECT_TRUE(gathering.worth_waiting(5, 1)) << "the last batch held five";
}

TEST(GroupGathering, EnoughWritesOrNoDelayMeanCommitNow) {
  Gathering gathering{std::chrono::microseconds(1000), 8};
  EXPECT_FALSE(gathering.worth_waiting(20, 8));
  EXPECT_FALSE(gathering.worth_waiting(20, 30));
  Gathering never{std::chrono::microseconds(0), 8};
  EXPECT_FALSE(never.worth_waiting(20, 2));
}

} // namespace
} // namespace chainlab::registry
