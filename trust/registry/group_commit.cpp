#include "registry/group_commit.hpp"

#include "core/error.hpp"

namespace chainlab::registry {

GroupCommit::GroupCommit(Database &db, std::mutex &lock)
    : db_(db), db_lock_(lock), thread_([this] { run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void GroupCommit::submit(Write write, Durable durable) {
  {
    std::lock_guard guard(mutex_);
    writes_.push_back(std::move(write));
    waiting_.push_back(std::move(durable));
  }
  wake_.notify_one();
}

void GroupCommit::flush() {
  std::unique_lock guard(mutex_);
  idle_.wait(guard, [this] { return writes_.empty() && !busy_; });
}

bool GroupCommit::commit(std::vector<Write> &writes) {
  std::lock_guard guard(db_lock_);
  try {
    Transaction transaction(db_);
    for (auto &write : writes)
      write(db_);
    transaction.commit();
    return true;
  } catch (const std::exception &) {
    return false; // the transaction rolled back: no write of the batch is kept
  }
}

void GroupCommit::run() {
  std::unique_lock guard(mutex_);
  for (;;) {
    wake_.wait(guard, [this] { return stopping_ || !writes_.empty(); });
    if (writes_.empty() && stopping_)
      return;
    // Swapped, not moved: both pairs of vectors keep their capacity, so a
    // steady stream of writes allocates no new vector per batch.
    batch_writes_.swap(writes_);
    batch_waiting_.swap(waiting_);
    busy_ = true;
    guard.unlock();
    bool committed = commit(batch_writes_);
    for (auto &durable : batch_waiting_) {
      try {
        durable(committed);
      } catch (const std::exception &) {
        // A waiter that fails must not stop the commits of everyone else.
      }
    }
    batch_writes_.clear();
    batch_waiting_.clear();
    guard.lock();
    busy_ = false;
    if (writes_.empty())
      idle_.notify_all();
  }
}

} // namespace chainlab::registry
