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
    db_.execute("CREATE TABLE telemetry (id INTEGER PRIMARY KEY AUTOINCREMENT, hub TEXT NOT NULL, "
                "device_id TEXT NOT NULL, time INTEGER NOT NULL, topic TEXT NOT NULL, "
                "payload BLOB NOT NULL)");
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

  // hold_next_batch queues a write that keeps its batch committing until
  // |release| is set: whatever is submitted meanwhile forms the next batch.
  static void hold_next_batch(GroupCommit &group, std::shared_future<void> release) {
    std::promise<void> started;
    auto running = started.get_future();
    group.submit(
        [&started, release](Database &) {
          started.set_value();
          release.wait();
        },
        [](bool) {});
    running.wait();
  }

  // acknowledged_with records, when write |n| is acknowledged, whether row
  // |other| was stored by then.
  GroupCommit::Durable acknowledged_with(int other, std::promise<bool> &seen) {
    return [this, other, &seen](bool committed) {
      seen.set_value(committed && stored("n = " + std::to_string(other)) == 1);
    };
  }

  testing::TempDir dir_;
  Database db_;
  std::mutex db_lock_;
};

// Landings records every ticket it hears, with the outcome.
struct Landings final : Landing {
  void landed(std::uint32_t ticket, bool committed) override {
    std::lock_guard lock(mutex);
    heard.emplace_back(ticket, committed);
  }
  std::mutex mutex;
  std::vector<std::pair<std::uint32_t, bool>> heard;
};

TelemetryView message(const std::string &topic, const std::string &payload) {
  return {"contoso", "widget-001", std::chrono::system_clock::now(), topic, payload};
}

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

// Two writes waiting show two writers at work: the committer waits for a
// third (here, up to a minute) and commits the three as one batch, so the
// first is acknowledged only with the third on disk.
TEST_F(GroupCommitTest, ABusyCommitterGathersWritesIntoOneBatch) {
  GroupCommit group(db_, db_lock_, Gathering{std::chrono::minutes(1), 3});
  std::promise<void> release;
  hold_next_batch(group, release.get_future().share());
  std::promise<bool> first_with_third, second_with_third;
  group.submit(insert(1), acknowledged_with(3, first_with_third));
  group.submit(insert(2), acknowledged_with(3, second_with_third));
  release.set_value();
  group.submit(insert(3), [](bool) {});
  EXPECT_TRUE(first_with_third.get_future().get());
  EXPECT_TRUE(second_with_third.get_future().get());
}

TEST_F(GroupCommitTest, TelemetryOfOneBatchIsStoredInArrivalOrderAndEachTicketLandsOnce) {
  auto landings = std::make_shared<Landings>();
  // 45 messages in one batch: a run of 32 rows (the most one INSERT takes)
  // and one of 13.
  constexpr std::uint32_t kMessages = 45;
  {
    GroupCommit group(db_, db_lock_);
    std::promise<void> release;
    hold_next_batch(group, release.get_future().share());
    for (std::uint32_t n = 0; n < kMessages; ++n) {
      std::string payload(n * 7, char('a' + n % 26)); // sizes differ, some empty
      group.submit_telemetry(message("devices/widget-001/messages/events/" + std::to_string(n),
                                     payload),
                             landings, n);
    }
    release.set_value();
    group.flush();
  }
  std::lock_guard lock(db_lock_);
  auto rows = db_.prepare("SELECT topic, payload, hub, device_id FROM telemetry ORDER BY id");
  for (std::uint32_t n = 0; n < kMessages; ++n) {
    ASSERT_TRUE(rows.step()) << "message " << n << " was not stored";
    EXPECT_EQ(rows.text(0), "devices/widget-001/messages/events/" + std::to_string(n));
    EXPECT_EQ(rows.blob(1), std::string(n * 7, char('a' + n % 26)));
    EXPECT_EQ(rows.text(2), "contoso");
    EXPECT_EQ(rows.text(3), "widget-001");
  }
  EXPECT_FALSE(rows.step());
  std::vector<std::pair<std::uint32_t, bool>> expected;
  for (std::uint32_t n = 0; n < kMessages; ++n)
    expected.emplace_back(n, true);
  EXPECT_EQ(landings->heard, expected);
}

TEST_F(GroupCommitTest, TelemetryOfAFailedBatchIsNotStoredAndItsTicketsHearSo) {
  auto landings = std::make_shared<Landings>();
  {
    GroupCommit group(db_, db_lock_);
    std::promise<void> release;
    hold_next_batch(group, release.get_future().share());
    group.submit_telemetry(message("devices/widget-001/messages/events/", "lost"), landings, 1);
    group.submit([](Database &) { throw std::runtime_error("disk full"); }, [](bool) {});
    release.set_value();
    group.flush();
    group.submit_telemetry(message("devices/widget-001/messages/events/", "kept"), landings, 2);
    group.flush();
  }
  std::lock_guard lock(db_lock_);
  auto rows = db_.prepare("SELECT payload FROM telemetry");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.blob(0), "kept");
  EXPECT_FALSE(rows.step());
  EXPECT_EQ(landings->heard,
            (std::vector<std::pair<std::uint32_t, bool>>{{1, false}, {2, true}}));
}

} // namespace
} // namespace chainlab::registry
