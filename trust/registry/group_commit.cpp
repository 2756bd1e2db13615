#include "registry/group_commit.hpp"

#include "core/error.hpp"

namespace chainlab::registry {

GroupCommit::GroupCommit(Database &db, std::mutex &lock, Gathering gathering)
    : db_(db), db_lock_(lock), gathering_(gathering), thread_([this] { run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void GroupCommit::submit(Write write, Durable durable) {
  std::lock_guard guard(mutex_);
  filling_.writes.push_back(std::move(write));
  filling_.waiting.push_back(std::move(durable));
  queued(filling_.size());
}

// Only the first write of a batch can find the committer idle, and only
// enough writes end its gathering: the writes between wake no one.
void GroupCommit::queued(std::size_t waiting) {
  if (waiting == 1 || waiting >= gathering_.enough)
    wake_.notify_one();
}

void GroupCommit::submit_telemetry(const TelemetryView &message, std::shared_ptr<Landing> landing,
                                   std::uint32_t ticket) {
  std::lock_guard guard(mutex_);
  filling_.telemetry.add(message);
  filling_.tickets.push_back({std::move(landing), ticket});
  queued(filling_.size());
}

void GroupCommit::flush() {
  std::unique_lock guard(mutex_);
  idle_.wait(guard, [this] { return filling_.empty() && !busy_; });
}

void GroupCommit::Batch::clear() {
  writes.clear();
  waiting.clear();
  telemetry.clear();
  tickets.clear();
}

bool GroupCommit::commit(Batch &batch) {
  std::lock_guard guard(db_lock_);
  try {
    Transaction transaction(db_);
    for (auto &write : batch.writes)
      write(db_);
    batch.telemetry.write(db_);
    transaction.commit();
    return true;
  } catch (const std::exception &) {
    return false; // the transaction rolled back: no write of the batch is kept
  }
}

// tell lets every waiter of |batch| know; one that fails must not stop the
// commits of everyone else.
void GroupCommit::tell(Batch &batch, bool committed) {
  for (auto &durable : batch.waiting) {
    try {
      durable(committed);
    } catch (const std::exception &) {
    }
  }
  for (auto &[landing, ticket] : batch.tickets) {
    try {
      landing->landed(ticket, committed);
    } catch (const std::exception &) {
    }
  }
}

void GroupCommit::run() {
  std::unique_lock guard(mutex_);
  for (;;) {
    wake_.wait(guard, [this] { return stopping_ || !filling_.empty(); });
    if (filling_.empty() && stopping_)
      return;
    if (!stopping_ && gathering_.worth_waiting(previous_batch_, filling_.size()))
      wake_.wait_for(guard, gathering_.at_most, [this] {
        return stopping_ || filling_.size() >= gathering_.enough;
      });
    previous_batch_ = filling_.size();
    // Swapped, not moved: both batches keep their capacity.
    std::swap(committing_, filling_);
    busy_ = true;
    guard.unlock();
    tell(committing_, commit(committing_));
    committing_.clear();
    guard.lock();
    busy_ = false;
    if (filling_.empty())
      idle_.notify_all();
  }
}

} // namespace chainlab::registry
