#!/usr/bin/env bash
# Back-pressure: a device that floods QoS 1 telemetry and never reads is
# slowed down, not cut off, and the hub's memory stays flat. The hub stops
# reading from it while its PUBACKs cannot be written (or too many of its
# messages wait for the disk); once the device reads again, every message
# is acknowledged and stored, on the same connection.
bin=$1
source "$(dirname "$0")/common.sh"
# The hub's device sockets have fixed kernel buffers, and so does the client:
# the hub stops reading after about 6,000 messages on loopback, so 30,000
# are enough, and a pause later than 20,000 means unbounded buffers again.
count=30000 pause_by=20000

start_hub_service contoso
company_registered_at contoso
device_enrolled_at_company flood-1
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$hub_pid/status"; }
before=$(rss_kib)

python3 "$(dirname "$0")/unread_flood_client.py" 127.0.0.1 "$mqtt" "$work/hub/hub-ca.pem" \
  "$work/flood-1/fullchain.pem" "$work/flood-1/keys/identity-key.key.pem" flood-1 "$count" \
  >"$work/result.json" &
client=$!
pids+=($client)
peak=$before
while kill -0 "$client" 2>/dev/null; do
  now=$(rss_kib)
  [ "$now" -gt "$peak" ] && peak=$now
  sleep 0.2
done
wait "$client" || fail "the flood client failed: $(cat "$work/result.json")"
result=$(cat "$work/result.json")
echo "client: $result; hub RSS ${before} KiB before, ${peak} KiB at most"

python3 - "$count" "$result" "$pause_by" <<'PY' || fail "back-pressure did not hold: $result"
import json, sys
count, result, pause_by = int(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
assert result["paused_after"] is not None, "the hub never stopped reading"
assert result["paused_after"] <= pause_by, f"the hub paused only after {result['paused_after']}"
assert not result["closed"], "the hub closed the connection"
assert result["acked"] == count, f"{result['acked']} of {count} acknowledged"
PY
stored=$(sqlite3 "$work/hub/hub.db" "SELECT count(*) FROM telemetry WHERE device_id = 'flood-1'")
[ "$stored" = "$count" ] || fail "$stored of $count messages stored"
refusals=$(sqlite3 "$work/hub/hub.db" "SELECT count(*) FROM events WHERE subject = 'flood-1' AND reason != ''")
[ "$refusals" = 0 ] || fail "the flood was refused instead of slowed down"
[ $((peak - before)) -lt 65536 ] || fail "the hub grew by $(( (peak - before) / 1024 )) MiB under the flood"
echo "PASS: back-pressure"
