#!/usr/bin/env bash
# Out of descriptors, the hub pauses accepting instead of spinning, says so,
# and serves a legitimate device again once descriptors are free; a device
# that times out is told it timed out, not that its certificate was refused.
bin=$1
source "$(dirname "$0")/common.sh"

HUB_LAUNCH="prlimit --nofile=64:64" start_hub_service contoso
company_registered_at contoso
device_enrolled_at_company widget-001
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")

# 100 idle TCP connections: more than the hub's 64 descriptors. They stay
# open until the file $work/release appears.
python3 - "$mqtt" "$work/release" "$work/flooding" <<'PY' &
import os, socket, sys, time
port, release, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
open(ready, "w").close()
while not os.path.exists(release):
    time.sleep(0.05)
PY
flood=$!
pids+=($flood)
for _ in $(seq 100); do [ -e "$work/flooding" ] && break; sleep 0.05; done
[ -e "$work/flooding" ] || fail "could not open the idle connections"
for _ in $(seq 100); do grep -q "cannot accept device connections" "$work/hub.log" && break; sleep 0.05; done
grep -q "cannot accept device connections" "$work/hub.log" ||
  fail "the hub did not say it ran out of descriptors: $(tail -3 "$work/hub.log")"

# Not spinning: well under a core over two seconds (a spinning loop uses all of one).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$hub_pid/stat"; }
before=$(cpu_ticks); sleep 2; after=$(cpu_ticks)
used=$(( (after - before) * 100 / $(getconf CLK_TCK) ))
[ "$used" -lt 50 ] || fail "the hub used ${used}% of a core while out of descriptors"

# A device now times out, and is told so.
err=$("$bin/device" --state "$work/widget-001" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp" 2>&1 >/dev/null) &&
  fail "a device connected while the hub had no descriptors left"
grep -q "peer_unreachable" <<<"$err" || fail "a timed-out device blamed something else: $err"

touch "$work/release"
wait "$flood" 2>/dev/null || true
"$bin/device" --state "$work/widget-001" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp" >/dev/null ||
  fail "the hub did not serve again once descriptors were free"
echo "PASS: descriptor exhaustion"
