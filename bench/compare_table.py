#!/usr/bin/env python3
"""compare_table.py RESULTS.jsonl CORES MOSQUITTO_VERSION: the table
bench/compare-mosquitto prints, medians of interleaved runs, with
hub / mosquitto ratios. Lower is better for CPU, memory and latency.
The load generator's own CPU (one thread) says which side set the rate:
near 100% of a core, the generator did."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(lambda: defaultdict(list))
order = []
for line in open(sys.argv[1]):
    row = json.loads(line)
    if row["label"] not in order:
        order.append(row["label"])
    runs[row["label"]][row["server"]].append(row["report"])


def median(reports, key):
    values = [r[key] for r in reports if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(value, unit):
    if value is None:
        return "-"
    if unit == "KiB":
        return f"{value / 1024:.1f} KiB"
    if unit == "MiB":
        return f"{value / 1048576:.0f} MiB"
    if unit == "M":
        return f"{value / 1e6:.2f} M"
    return f"{value:.3g}{unit}" if unit in ("%",) else f"{value:.3g} {unit}".rstrip()


METRICS = {
    "connect-rate": [("connects/s", "per_second", ""), ("server CPU per connect", "server_cpu_ms_per_operation", "ms"),
                     ("p50 latency", "p50_ms", "ms"), ("p99 latency", "p99_ms", "ms"),
                     ("load generator CPU (1 thread)", "generator_cpu_percent", "%")],
    "hold": [("memory per held connection", "server_bytes_per_held_connection", "KiB"),
             ("server RSS while holding", "server_rss_bytes", "MiB"),
             ("connects/s while connecting", "connects_per_second", "")],
    "telemetry": [("QoS 1 messages/s", "per_second", ""), ("server CPU per message", "server_cpu_ms_per_operation", "ms"),
                  ("p50 PUBACK latency", "p50_ms", "ms"), ("p99 PUBACK latency", "p99_ms", "ms"),
                  ("load generator CPU (1 thread)", "generator_cpu_percent", "%")],
    "instructions": [("server instructions per connect", "instructions_per_connect", "M")],
}

print(f"\nchainlab hub against {sys.argv[3]} on {sys.argv[2]} cores, medians of interleaved runs")
print(f"{'run':46} {'metric':30} {'hub':>12} {'mosquitto':>12} {'hub/mosq':>9}")
for label in order:
    servers = runs[label]
    mode = (servers.get("hub") or servers.get("mosquitto"))[0]["mode"]
    for name, key, unit in METRICS[mode]:
        hub = median(servers.get("hub", []), key)
        mosq = median(servers.get("mosquitto", []), key)
        ratio = f"{hub / mosq:.2f}x" if hub is not None and mosq else "-"
        print(f"{label:46} {name:30} {fmt(hub, unit):>12} {fmt(mosq, unit):>12} {ratio:>9}")
    for server, reports in servers.items():
        reasons = defaultdict(int)
        for report in reports:
            for reason, count in report["failures"].items():
                reasons[reason] += count
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:3]:
            print(f"{label:46} failures at {server}: {count} x {reason}")
print("mosquitto runs without persistence; the hub records every connection and message in SQLite.")
