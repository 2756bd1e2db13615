#!/usr/bin/env bash
# Group commit keeps its promise: a device streams QoS 1 telemetry, the hub
# is killed with SIGKILL mid-stream, and after a restart every message the
# hub had acknowledged (PUBACK) is in its store.
bin=$1
source "$(dirname "$0")/common.sh"

api_call() { # api_call HUB METHOD PATH
  curl -sS --cacert "$work/hub/hub-ca.pem" -X "$2" \
    -H "Authorization: Bearer $(cat "$work/hub/hubs/$1.token")" \
    "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/$1$3"
}
start_hub_service contoso
company_registered_at contoso
device_enrolled_at_company sensor-1
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")

acked=$work/acked.txt
: >"$acked"
python3 "$(dirname "$0")/telemetry_client.py" 127.0.0.1 "$mqtt" "$work/hub/hub-ca.pem" \
  "$work/sensor-1/fullchain.pem" "$work/sensor-1/keys/identity-key.key.pem" sensor-1 "$acked" &
client=$!
pids+=($client)
for _ in $(seq 300); do [ "$(wc -l <"$acked")" -ge 300 ] && break; sleep 0.05; done
[ "$(wc -l <"$acked")" -ge 300 ] || fail "the hub acknowledged only $(wc -l <"$acked") messages"
kill -KILL "$hub_pid"
wait "$client" 2>/dev/null || true
wait "$hub_pid" 2>/dev/null || true
start_hub_service

# The stored messages, read page by page (300 per page, so that paging is
# exercised: every run stores more than that).
after=0 page=0
while :; do
  page=$((page + 1))
  api_call contoso GET "/devices/sensor-1/telemetry?after=$after&limit=300" >"$work/stored-$page.json"
  next=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["next"] if p["more"] else "")' \
    "$work/stored-$page.json") || fail "telemetry page $page is not the expected JSON"
  [ -n "$next" ] && [ "$next" -gt "$after" ] || break
  after=$next
done
python3 - "$acked" "$work"/stored-*.json <<'PY' || fail "acknowledged messages were lost"
import json, sys
acked = [line.strip() for line in open(sys.argv[1]) if line.strip()]
stored = {m["payload"] for page in sys.argv[2:] for m in json.load(open(page))["telemetry"]}
lost = [m for m in acked if m not in stored]
print(f"{len(acked)} acknowledged, {len(stored)} stored, {len(lost)} lost {lost[:5]}")
sys.exit(1 if lost else 0)
PY
echo "PASS: no acknowledged message lost to SIGKILL"
