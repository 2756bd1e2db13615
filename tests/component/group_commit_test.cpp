// Group commit's promise: a write is acknowledged only once its batch is on
// disk, every waiter hears exactly once, and a batch that fails is rolled
// back whole and reported as failed, without stopping the batches after it.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "registry/group_commit.hpp"
#include "registry/sqlite.hpp"
#include "support/test_pki.hpp"

namespace chainlab::registry {
namespace {

class GroupCommitTest : public ::testing::Test {
protected:
  GroupCommitTest() : db_(dir_.file("group.db")) {
    db_.execute("CREATE TABLE rows (n INTEGER NOT NULL)");
  }
  std::int64_t stored(const std::string &where = "1") {
    std::lock_guard lock(db_lock_);
    auto count = db_.prepare("SELECT COUNT(*) FROM rows WHERE " + where);
    count.step();
    return count.integer(0);
  }
  static GroupCommit::Write insert(int n) {
    return [n](Database &db) {
      db.prepare("INSERT INTO rows (n) VALUES (?)").bind(1, std::int64_t(n)).run();
    };
  }

  testing::TempDir dir_;
  Database db_;
  std::mutex db_lock_;
};

TEST_F(GroupCommitTest, EveryWriteFromManyThreadsIsStoredAndAcknowledgedOnce) {
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::atomic<int>> heard(kThreads * kEach);
  std::atomic<int> failed{0};
  {
    GroupCommit group(db_, db_lock_);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
      writers.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          int n = t * kEach + i;
          group.submit(insert(n), [&, n](bool committed) {
            // Acknowledged means stored: the row is there when we hear.
            heard[std::size_t(n)]++;
            failed += committed ? 0 : 1;
          });
        }
      });
    for (auto &writer : writers)
      writer.join();
    group.flush();
  }
  EXPECT_EQ(failed.load(), 0);
  for (auto &count : heard)
    ASSERT_EQ(count.load(), 1);
  EXPECT_EQ(stored(), kThreads * kEach);
}

TEST_F(GroupCommitTest, AFailedBatchIsRolledBackWholeAndLaterBatchesCommit) {
  GroupCommit group(db_, db_lock_);
  std::vector<bool> outcomes;
  std::mutex outcomes_lock;
  auto record = [&](bool committed) {
    std::lock_guard lock(outcomes_lock);
    outcomes.push_back(committed);
  };
  // The first batch holds its commit until the next three are queued behind
  // it: they are then one batch, whatever the threads' timing.
  std::promise<void> started, release;
  auto started_future = started.get_future();
  std::shared_future<void> released = release.get_future().share();
  group.submit(
      [&started, released](Database &db) {
        started.set_value();
        released.wait();
        insert(1)(db);
      },
      record);
  started_future.wait();
  group.submit(insert(2), record);
  group.submit([](Database &) { throw std::runtime_error("disk full"); }, record);
  group.submit(insert(3), record);
  release.set_value();
  group.flush();
  group.submit(insert(4), record);
  group.flush();
  EXPECT_EQ(stored("n = 1"), 1);
  EXPECT_EQ(stored("n IN (2, 3)"), 0) << "a failed batch keeps none of its writes";
  EXPECT_EQ(stored("n = 4"), 1) << "the batch after a failure commits";
  std::lock_guard lock(outcomes_lock);
  EXPECT_EQ(outcomes, (std::vector<bool>{true, false, false, false, true}));
}

TEST_F(GroupCommitTest, AWaiterThatThrowsDoesNotStopTheOthers) {
  std::atomic<int> heard{0};
  {
    GroupCommit group(db_, db_lock_);
    group.submit(insert(1), [](bool) { throw std::runtime_error("waiter failed"); });
    group.submit(insert(2), [&](bool committed) { heard += committed; });
    group.flush();
    group.submit(insert(3), [&](bool committed) { heard += committed; });
  } // the destructor commits what is queued
  EXPECT_EQ(heard.load(), 2);
  EXPECT_EQ(stored(), 3);
}

} // namespace
} // namespace chainlab::registry
