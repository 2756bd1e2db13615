// device/fleet_load.hpp: `device fleet run`, a mutual-TLS MQTT load
// generator over the fleet's identities. One Asio thread drives every
// connection (the server under test gets the other core).
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "core/error.hpp"
#include "device/fleet_identities.hpp"
#include "device/fleet_stats.hpp"

namespace chainlab::device {

struct FleetTarget {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string pinned_fingerprint; // the server's CA, as devices pin it
  std::string server_name = "localhost";
};

enum class LoadMode {
  connect_rate, // TLS, CONNECT, CONNACK, DISCONNECT, close; again
  hold,         // connect N devices and keep them, with keep-alive
  telemetry,    // connect N devices; each publishes at a rate, QoS 1
};

struct LoadOptions {
  LoadMode mode = LoadMode::connect_rate;
  std::size_t in_flight = 16;              // connections being set up at once
  std::chrono::seconds duration{20};       // measured (after all connected, for hold/telemetry)
  std::size_t devices = 0;                 // hold/telemetry: how many (0 = whole fleet)
  double rate = 1.0;                       // telemetry: messages per second per device
  std::size_t payload_bytes = 64;
  std::uint16_t keep_alive = 60;
  std::chrono::seconds report_every{5};
  std::optional<int> server_pid;           // to report its CPU and memory
};

struct LoadReport {
  std::string mode;
  double seconds = 0;     // the measured window
  std::size_t operations = 0; // connects or acknowledged messages in it
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  std::size_t held = 0;   // hold/telemetry: connected at the end
  // hold/telemetry: the connecting phase before the measured window.
  std::size_t connects = 0;
  double connect_seconds = 0, connects_per_second = 0, connect_p50_ms = 0, connect_p99_ms = 0;
  std::map<std::string, std::size_t> failures;
  // From /proc/<server_pid>, when given.
  std::optional<double> server_cpu_ms_per_operation;
  std::optional<double> server_cpu_percent;
  std::optional<std::uint64_t> server_rss_bytes;
  std::optional<double> server_bytes_per_held_connection;
  // This process's own CPU in the window: one thread, so near 100% of a
  // core means the generator, not the server, set the rate.
  std::optional<double> generator_cpu_ms_per_operation;
  std::optional<double> generator_cpu_percent;
};

// run_load runs one measurement and prints a progress line every
// report_every to |progress|.
LoadReport run_load(const Fleet &fleet, const FleetTarget &target, const LoadOptions &options,
                    std::ostream &progress);

void print_report(const LoadReport &report, std::ostream &out);
std::string report_json(const LoadReport &report);
// nothing_succeeded: the Error a run ends with when it did nothing at all
// (no connect, no device held, no message acknowledged), so that a script
// or a CI job notices; nullopt when anything succeeded.
std::optional<Error> nothing_succeeded(const LoadReport &report);

} // namespace chainlab::device
