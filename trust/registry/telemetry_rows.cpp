#include "registry/telemetry_rows.hpp"

#include <algorithm>
#include <array>

namespace chainlab::registry {
namespace {

// Rows per INSERT: SQLite allocates per run of a statement, not per row,
// so a batch of up to kMaxRowsPerInsert messages is written in one run (a
// statement per row count, compiled once and kept), and a larger one in
// runs of that many.
constexpr std::size_t kMaxRowsPerInsert = 32;
constexpr int kColumns = 5;

const std::string &insert_sql(std::size_t rows) {
  static const auto texts = [] {
    std::array<std::string, kMaxRowsPerInsert + 1> built; // by row count; [0] unused
    for (std::size_t count = 1; count <= kMaxRowsPerInsert; ++count) {
      built[count] = "INSERT INTO telemetry (hub, device_id, time, topic, payload) VALUES ";
      for (std::size_t row = 0; row < count; ++row)
        built[count] += row == 0 ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)";
    }
    return built;
  }();
  return texts.at(rows);
}

void bind_row(Statement &insert, int first, const TelemetryRecord &row) {
  // The rows outlive the statement, which clears its bindings when it ends.
  insert.bind_unowned(first, row.hub)
      .bind_unowned(first + 1, row.device_id)
      .bind(first + 2, to_seconds(row.time))
      .bind_unowned(first + 3, row.topic)
      .bind_blob_unowned(first + 4, row.payload);
}

} // namespace

void TelemetryRows::add(const TelemetryView &message) {
  if (used_ == slots_.size())
    slots_.emplace_back();
  TelemetryRecord &slot = slots_[used_++];
  slot.hub.assign(message.hub);
  slot.device_id.assign(message.device_id);
  slot.time = message.time;
  slot.topic.assign(message.topic);
  slot.payload.assign(message.payload);
}

void TelemetryRows::write(Database &db) const {
  for (std::size_t next = 0; next < used_;) {
    std::size_t rows = std::min(used_ - next, kMaxRowsPerInsert);
    auto insert = db.prepare(insert_sql(rows));
    for (std::size_t row = 0; row < rows; ++row)
      bind_row(insert, int(row) * kColumns + 1, slots_[next + row]);
    insert.run();
    next += rows;
  }
}

void TelemetryRows::clear() {
  if (slots_.size() > kKeptSlots) {
    slots_.resize(kKeptSlots);
    slots_.shrink_to_fit();
  }
  for (std::size_t i = 0; i < used_ && i < slots_.size(); ++i)
    for (std::string *field :
         {&slots_[i].hub, &slots_[i].device_id, &slots_[i].topic, &slots_[i].payload})
      if (field->capacity() > kKeptBytesPerString)
        std::string().swap(*field);
  used_ = 0;
}

} // namespace chainlab::registry
