// The narrator's two ways of speaking: say flushes at once; say_soon's
// lines reach the reader in order, flushed by the next say, by the
// narrator's end, or on their own shortly after.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <streambuf>
#include <string>

#include "core/narrator.hpp"

namespace chainlab {
namespace {

// Flushed keeps what was written and what a reader would have seen: only
// what came before the last flush (sync).
class Flushed : public std::stringbuf {
public:
  std::string seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::future<void> next_flush() {
    std::lock_guard lock(mutex_);
    flushed_ = std::promise<void>();
    return flushed_.get_future();
  }

protected:
  int sync() override {
    std::lock_guard lock(mutex_);
    seen_ = str();
    flushed_.set_value();
    flushed_ = std::promise<void>();
    return 0;
  }

private:
  std::mutex mutex_;
  std::string seen_;
  std::promise<void> flushed_;
};

// A hub's narrator writing into a Flushed buffer.
class NarratorTest : public ::testing::Test {
protected:
  Flushed buffer;
  std::ostream out{&buffer};
  std::optional<Narrator> narrator{std::in_place, "hub", out};
};

TEST_F(NarratorTest, SayIsSeenAtOnce) {
  narrator->say("device-1 connected");
  EXPECT_EQ(buffer.seen(), "[hub] device-1 connected\n");
}

TEST_F(NarratorTest, SaySoonLinesAreSeenInOrderWithTheNextSay) {
  narrator->say_soon("telemetry 1");
  narrator->say_soon("telemetry 2");
  narrator->say("CA registered");
  EXPECT_EQ(buffer.seen(), "[hub] telemetry 1\n[hub] telemetry 2\n[hub] CA registered\n");
}

TEST_F(NarratorTest, SaySoonLinesAreSeenWithoutAnotherLine) {
  auto flushed = buffer.next_flush();
  narrator->say_soon("telemetry 1");
  ASSERT_EQ(flushed.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "a say_soon line was never flushed";
  EXPECT_EQ(buffer.seen(), "[hub] telemetry 1\n");
}

TEST_F(NarratorTest, SaySoonLinesAreSeenWhenTheNarratorEnds) {
  narrator->say_soon("device-1 disconnected");
  narrator.reset();
  EXPECT_EQ(buffer.seen(), "[hub] device-1 disconnected\n");
}

} // namespace
} // namespace chainlab
