// registry/group_commit.hpp: durable writes that their callers wait for,
// committed together. Whatever arrives while one commit (one fsync) runs
// goes into the next, so a stream of acknowledged writes costs one fsync per
// batch, never one per write; and nothing is acknowledged before its batch
// is on disk.
//
// Under load a batch is also gathered: when the last batch held more than
// one write, or more than one is already waiting, the committer waits a
// little (Gathering) for more before it commits. Each commit's cost (WAL
// frames, one fdatasync) is then shared by more writes; a lone write, as
// from one device at a time, is never held back.
//
// Telemetry, the one write that comes per message, has its own way in: it
// is queued as a row (TelemetryRows) and acknowledged through a Landing and
// a ticket, so that a steady stream allocates nothing per message.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "registry/landing.hpp"
#include "registry/sqlite.hpp"
#include "registry/telemetry_rows.hpp"

namespace chainlab::registry {

// How long a busy committer waits for more writes, and how many end the wait.
struct Gathering {
  std::chrono::microseconds at_most{1000};
  std::size_t enough = 64;
  // worth_waiting: whether a batch that holds |waiting| writes, after one
  // of |previous| writes, waits for more.
  bool worth_waiting(std::size_t previous, std::size_t waiting) const {
    return at_most.count() > 0 && waiting < enough && (previous > 1 || waiting > 1);
  }
};

class GroupCommit {
public:
  using Write = std::function<void(Database &)>; // inside the batch's transaction
  using Durable = std::function<void(bool committed)>;

  // |lock| guards |db| for everyone else who uses it.
  GroupCommit(Database &db, std::mutex &lock, Gathering gathering = {});
  ~GroupCommit(); // commits what is queued, then stops

  // submit queues |write|; |durable| runs on the committer thread once the
  // batch holding it has committed (true) or failed (false: nothing of the
  // batch was written).
  void submit(Write write, Durable durable);
  // submit_telemetry queues |message| (copied) for the next batch, which
  // writes it after the batch's other writes; |landing| then hears |ticket|
  // on the committer thread, as |durable| above.
  void submit_telemetry(const TelemetryView &message, std::shared_ptr<Landing> landing,
                        std::uint32_t ticket);
  // flush waits until everything submitted so far has been committed.
  void flush();

private:
  struct Ticket {
    std::shared_ptr<Landing> landing;
    std::uint32_t ticket;
  };
  // What one batch holds. Two are kept and swapped (one filling, one being
  // committed), so that a steady stream allocates no new one per batch.
  struct Batch {
    std::vector<Write> writes;
    std::vector<Durable> waiting;
    TelemetryRows telemetry;
    std::vector<Ticket> tickets;
    bool empty() const { return writes.empty() && telemetry.empty(); }
    std::size_t size() const { return writes.size() + tickets.size(); }
    void clear();
  };

  void run();
  void queued(std::size_t waiting); // after a write joined filling_, under mutex_
  bool commit(Batch &batch);
  static void tell(Batch &batch, bool committed);

  Database &db_;
  std::mutex &db_lock_;
  const Gathering gathering_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  Batch filling_;
  Batch committing_; // committer thread only
  std::size_t previous_batch_ = 0; // committer thread only
  bool busy_ = false, stopping_ = false;
  std::thread thread_;
};

} // namespace chainlab::registry
