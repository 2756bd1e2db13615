// What one stored QoS 1 message costs the registry's SQL layer, inside a
// batch (group commit pays the fsync once per batch): the INSERT compiled
// for each message (Before) against the statement kept per SQL text (After).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "registry/sqlite.hpp"
#include "scenarios/process.hpp"

namespace {

using chainlab::registry::Database;
using chainlab::registry::Transaction;

constexpr const char *kInsert =
    "INSERT INTO telemetry (hub, device_id, time, topic, payload) VALUES (?, ?, ?, ?, ?)";

void insert_messages(benchmark::State &state, bool compile_each) {
  std::string dir = chainlab::scenario::make_private_dir("chainlab-bench-registry");
  {
    Database db(dir + "/bench.db");
    db.execute("CREATE TABLE telemetry (id INTEGER PRIMARY KEY AUTOINCREMENT, hub TEXT, "
               "device_id TEXT, time INTEGER, topic TEXT, payload BLOB)");
    for (std::size_t i = 0; compile_each && i < Database::kKeptStatements; ++i)
      db.prepare("SELECT " + std::to_string(i)); // fill the kept statements: each INSERT compiles
    std::string payload(64, 'x');
    Transaction batch(db);
    for (auto _ : state)
      db.prepare(kInsert)
          .bind(1, std::string("contoso"))
          .bind(2, std::string("widget-001"))
          .bind(3, std::int64_t(1))
          .bind(4, std::string("devices/widget-001/messages/events/"))
          .bind_blob(5, payload)
          .run();
    batch.commit();
  }
  std::filesystem::remove_all(dir);
}

void BM_StoreMessage_Before_CompiledEachTime(benchmark::State &state) { insert_messages(state, true); }
BENCHMARK(BM_StoreMessage_Before_CompiledEachTime);
void BM_StoreMessage_After_KeptStatement(benchmark::State &state) { insert_messages(state, false); }
BENCHMARK(BM_StoreMessage_After_KeptStatement);

} // namespace
