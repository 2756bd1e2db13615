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
    auto writes = std::move(writes_);
    auto waiting = std::move(waiting_);
    writes_.clear();
    waiting_.clear();
    busy_ = true;
    guard.unlock();
    bool committed = commit(writes);
    for (auto &durable : waiting) {
      try {
        durable(committed);
      } catch (const std::exception &) {
        // A waiter that fails must not stop the commits of everyone else.
      }
    }
    guard.lock();
    busy_ = false;
    if (writes_.empty())
      idle_.notify_all();
  }
}

} // namespace chainlab::registry
