#include "registry/telemetry_rows.hpp"

#include <array>

namespace chainlab::registry {
namespace {

// Rows per INSERT: a batch is written in as few runs as these sizes allow
// (SQLite allocates per run), with statements compiled once per size.
constexpr std::array<std::size_t, 3> kRowsPerInsert = {32, 8, 1};
constexpr int kColumns = 5;

const std::string &insert_sql(std::size_t rows) {
  static const auto texts = [] {
    std::array<std::string, kRowsPerInsert.size()> built;
    for (std::size_t i = 0; i < kRowsPerInsert.size(); ++i) {
      built[i] = "INSERT INTO telemetry (hub, device_id, time, topic, payload) VALUES ";
      for (std::size_t row = 0; row < kRowsPerInsert[i]; ++row)
        built[i] += row == 0 ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)";
    }
    return built;
  }();
  for (std::size_t i = 0; i < kRowsPerInsert.size(); ++i)
    if (kRowsPerInsert[i] == rows)
      return texts[i];
  return texts.back();
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
  std::size_t next = 0;
  for (std::size_t rows : kRowsPerInsert) {
    while (used_ - next >= rows) {
      auto insert = db.prepare(insert_sql(rows));
      for (std::size_t row = 0; row < rows; ++row)
        bind_row(insert, int(row) * kColumns + 1, slots_[next + row]);
      insert.run();
      next += rows;
    }
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
