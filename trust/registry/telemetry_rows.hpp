// registry/telemetry_rows.hpp: the telemetry messages of one group-commit
// batch. Each message is copied into a slot that is kept, strings and all,
// from batch to batch: a steady stream of messages allocates nothing here.
// The batch is written with multi-row INSERTs, because SQLite allocates per
// run of a statement, not per row: its allocations come per 32 messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "registry/sqlite.hpp"

namespace chainlab::registry {

struct TelemetryRecord {
  std::string hub;
  std::string device_id;
  std::chrono::system_clock::time_point time;
  std::string topic;
  std::string payload;
};

// A message as its receiver holds it: nothing is copied until it is queued.
struct TelemetryView {
  std::string_view hub;
  std::string_view device_id;
  std::chrono::system_clock::time_point time;
  std::string_view topic;
  std::string_view payload;
};

class TelemetryRows {
public:
  // Past these, clear gives memory back: one burst of large messages, or
  // one very large batch, is not held for the life of the hub.
  static constexpr std::size_t kKeptSlots = 1024;
  static constexpr std::size_t kKeptBytesPerString = 4096;

  void add(const TelemetryView &message);
  std::size_t size() const { return used_; }
  bool empty() const { return used_ == 0; }
  // write inserts every message, in the order added, inside the caller's
  // transaction.
  void write(Database &db) const;
  void clear();

private:
  std::vector<TelemetryRecord> slots_; // the first used_ hold this batch
  std::size_t used_ = 0;
};

} // namespace chainlab::registry
