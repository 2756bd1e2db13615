#!/usr/bin/env bash
# Out of descriptors, the hub pauses accepting instead of spinning, records
# it, and serves a legitimate device again within 2 s once connections free
# up; a device that times out is told it timed out, not that its
# certificate was refused. One address's unauthenticated connections are
# capped, so an idle flood from it cannot crowd out other devices.
bin=$1
source "$(dirname "$0")/common.sh"

# flood COUNT SOURCE NAME: COUNT idle TCP connections to the device port
# from address SOURCE, held until $work/NAME.release appears; sets flood.
flood() {
  python3 - "$mqtt" "$1" "$2" "$work/$3" <<'PY' &
import os, socket, sys, time
port, count, source, marker = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
held = [socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
        for _ in range(count)]
open(marker + ".ready", "w").close()
while not os.path.exists(marker + ".release"):
    time.sleep(0.05)
PY
  flood=$!
  pids+=($flood)
  for _ in $(seq 200); do [ -e "$work/$3.ready" ] && break; sleep 0.05; done
  [ -e "$work/$3.ready" ] || fail "could not open $1 idle connections"
}
events() { "$bin/hub" --state "$work/hub" events --name contoso; }
wait_for_event() {
  for _ in $(seq 100); do events | grep -q -- "$1" && return; sleep 0.05; done
  fail "no event with \"$1\": $(events | tail -3)"
}
connect() { "$bin/device" --state "$work/widget-001" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp"; }

HUB_LAUNCH="prlimit --nofile=256:256" HUB_SERVE_ARGS="--max-unauthenticated-per-address 1000" \
  start_hub_service contoso
company_registered_at contoso
device_enrolled_at_company widget-001
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")

# 300 idle connections: more than the hub's 256 descriptors.
flood 300 127.0.0.1 exhaust
wait_for_event "cannot accept device connections"
grep -q "cannot accept device connections" "$work/hub.log" || fail "the hub did not say so"

# Not spinning: under 5% of a core over two seconds (a spinning loop uses all of one).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$hub_pid/stat"; }
before=$(cpu_ticks); sleep 2; after=$(cpu_ticks)
used=$(( (after - before) * 100 / $(getconf CLK_TCK) / 2 ))
[ "$used" -lt 5 ] || fail "the hub used ${used}% of a core while out of descriptors"

# A device now times out, and is told so. The hub cuts idle connections
# after 10 s, as long as the device waits, so 300 more queue ahead of it.
exhausting=$flood
flood 300 127.0.0.1 queued
err=$(connect 2>&1 >/dev/null) && fail "a device connected while the hub had no descriptors left"
grep -q "peer_unreachable" <<<"$err" || fail "a timed-out device blamed something else: $err"

touch "$work/exhaust.release" "$work/queued.release"
wait "$flood" "$exhausting" 2>/dev/null || true
start=$(date +%s%N)
connect >/dev/null || fail "the hub did not serve again once descriptors were free"
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took" -lt 2000 ] || fail "the device was served ${took} ms after descriptors were free"
echo "served again ${took} ms after the idle connections closed"

# The per-address cap: an idle flood from 127.0.0.2 holds at most 20
# descriptors, and a device on 127.0.0.1 is served meanwhile.
kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
HUB_SERVE_ARGS="--max-unauthenticated-per-address 20" start_hub_service contoso
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
open_fds() { ls "/proc/$hub_pid/fd" | wc -l; }
idle_fds=$(open_fds)
flood 50 127.0.0.2 capped
wait_for_event "127.0.0.2 already has 20 connections that have not authenticated"
held=$(( $(open_fds) - idle_fds ))
[ "$held" -le 20 ] || fail "the hub holds $held connections from one address over its cap of 20"
connect >/dev/null || fail "a device from another address was not served during the flood"
touch "$work/capped.release"
echo "PASS: descriptor exhaustion"
