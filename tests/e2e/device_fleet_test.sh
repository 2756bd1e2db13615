#!/usr/bin/env bash
# `device fleet`: identities issued through a CA's own policy and log, then
# each load mode against a real hub, with the hub's CPU and memory read.
bin=$1
source "$(dirname "$0")/common.sh"

start_hub_service contoso
company_registered_at contoso
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=Technician-Z \
  --profile subordinate-ca --path-len 0 2>/dev/null)
"$bin/technician" --state "$work/technician" init --name Technician-Z --parent-port "$company_port" \
  --parent-fingerprint "$("$bin/company" --state "$work/company" fingerprint)" --secret "$secret" >/dev/null

"$bin/device" --state "$work/fleet" fleet issue --technician-state "$work/technician" --count 24 \
  >"$work/issue.log" || fail "fleet issue failed: $(cat "$work/issue.log")"
"$bin/technician" --state "$work/technician" list | grep -c "CN=fleet-" | grep -qx 24 ||
  fail "the technician's issuance log does not hold the 24 fleet certificates"
# Issuing again up to the same count adds nothing.
"$bin/device" --state "$work/fleet" fleet issue --technician-state "$work/technician" --count 24 |
  grep -q "0 identities added" || fail "a second issue to the same count added identities"

mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
run() { # run MODE ARGS...: the JSON report
  "$bin/device" --state "$work/fleet" fleet run --port "$mqtt" --ca-fingerprint "$hub_fp" \
    --server-pid "$hub_pid" --json --seconds 1 "$@" 2>>"$work/fleet.log"
}
check() { # check REPORT PYTHON-CONDITION WHAT
  python3 -c "import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1" ||
    fail "$3: $1"
}
report=$(run --mode connect-rate --in-flight 4)
check "$report" 'r["operations"] > 0 and not r["failures"] and r["server_cpu_ms_per_operation"] > 0
  and r["generator_cpu_ms_per_operation"] > 0 and 0 < r["generator_cpu_percent"] <= 110' \
  "connect-rate measured nothing, failed, or did not report its own CPU"
report=$(run --mode hold --devices 24 --in-flight 8)
check "$report" 'r["held"] == 24 and r["connects"] == 24 and r["server_rss_bytes"] > 0' \
  "hold did not keep the 24 devices"
report=$(run --mode telemetry --devices 8 --rate 20)
check "$report" 'r["operations"] > 0 and r["held"] == 8 and not r["failures"]' \
  "telemetry was not acknowledged"
# A hub that refuses them: failures are counted by reason, not hidden.
curl -sS --cacert "$work/hub/hub-ca.pem" -X POST \
  -H "Authorization: Bearer $(cat "$work/hub/hubs/contoso.token")" \
  "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/contoso/certificates/Company-X/disable" >/dev/null
# A run in which nothing succeeded still reports, then exits 1 and says why.
status=0
report=$(run --mode connect-rate --in-flight 4) || status=$?
check "$report" 'r["operations"] == 0 and sum(r["failures"].values()) > 0 and all(k.startswith("tls:") for k in r["failures"])' \
  "connections under a disabled CA were not counted as TLS refusals"
[ "$status" = 1 ] || fail "a run in which every connect was refused exited $status, not 1"
grep -q "error (peer_refused): fleet run --mode connect-rate: nothing succeeded" "$work/fleet.log" ||
  fail "the refused run did not say that nothing succeeded: $(tail -3 "$work/fleet.log")"
# A --server-pid that names no process is refused before any load.
status=0
"$bin/device" --state "$work/fleet" fleet run --port "$mqtt" --ca-fingerprint "$hub_fp" \
  --server-pid 2147483647 --seconds 1 >/dev/null 2>"$work/pid.log" || status=$?
[ "$status" = 2 ] && grep -q -- "--server-pid 2147483647: no such process" "$work/pid.log" ||
  fail "a --server-pid naming no process was not refused (exit $status): $(cat "$work/pid.log")"
echo "PASS: device fleet"
