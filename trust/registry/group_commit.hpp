// registry/group_commit.hpp: durable writes that their callers wait for,
// committed together. Whatever arrives while one commit (one fsync) runs
// goes into the next, so a stream of acknowledged writes costs one fsync per
// batch, never one per write; and nothing is acknowledged before its batch
// is on disk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "registry/sqlite.hpp"

namespace chainlab::registry {

class GroupCommit {
public:
  using Write = std::function<void(Database &)>; // inside the batch's transaction
  using Durable = std::function<void(bool committed)>;

  // |lock| guards |db| for everyone else who uses it.
  GroupCommit(Database &db, std::mutex &lock);
  ~GroupCommit(); // commits what is queued, then stops

  // submit queues |write|; |durable| runs on the committer thread once the
  // batch holding it has committed (true) or failed (false: nothing of the
  // batch was written).
  void submit(Write write, Durable durable);
  // flush waits until everything submitted so far has been committed.
  void flush();

private:
  void run();
  bool commit(std::vector<Write> &writes);

  Database &db_;
  std::mutex &db_lock_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::vector<Write> writes_;
  std::vector<Durable> waiting_;
  std::vector<Write> batch_writes_; // the batch being committed (committer thread only)
  std::vector<Durable> batch_waiting_;
  bool busy_ = false, stopping_ = false;
  std::thread thread_;
};

} // namespace chainlab::registry
