// What a first connection's registration costs the hub's in-memory
// snapshot, by the number of devices it already holds: publishing a new
// device copies part of the device table (DeviceTable::with), and that
// part must not grow with the fleet, or registration slows as it grows.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "hub/tenant_snapshot.hpp"

namespace {

using chainlab::hub::DeviceTable;
using chainlab::registry::DeviceRecord;

DeviceRecord device(std::size_t n) {
  DeviceRecord record;
  record.hub = "bench-hub";
  record.device_id = "fleet-" + std::to_string(n);
  return record;
}

// Each iteration adds one new device to a table of state.range(0) devices,
// and lets the table it replaced go, as a registration does.
void BM_RegisterIntoSnapshot(benchmark::State &state) {
  std::vector<DeviceRecord> fleet;
  for (std::size_t n = 0; n < std::size_t(state.range(0)); ++n)
    fleet.push_back(device(n));
  DeviceTable table = DeviceTable::from(std::move(fleet));
  std::size_t next = std::size_t(state.range(0));
  for (auto _ : state) {
    DeviceTable grown = table.with(device(next++));
    benchmark::DoNotOptimize(grown);
  }
  state.counters["devices"] = double(state.range(0));
}
BENCHMARK(BM_RegisterIntoSnapshot)->Arg(10000)->Arg(100000)->Arg(1000000);

} // namespace
