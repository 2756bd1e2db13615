#!/usr/bin/env bash
# Crash loops: a server is killed with SIGKILL at a random point of each
# flow, restarted, and the invariants are checked after every restart:
#   register-ca            no CA state without its event; the client resumes
#   first connection       every device that got CONNACK keeps its record
#   QoS 1 telemetry        no acknowledged message is lost
#   EST enrolment          no consumed secret without its certificate; a
#                          retry with the same secret gets that certificate
# CRASH_KILLS=N kills per flow (default 3; the long run is documented in
# tests/README.md). Each round prints its random delay, to reproduce it.
bin=$1
source "$(dirname "$0")/common.sh"
kills=${CRASH_KILLS:-3}

# A kill lands uniformly within a flow: random_delay SPAN is between 0 and
# SPAN seconds, SPAN being how long the flow took once without a kill.
random_delay() { awk -v r="$RANDOM" -v span="$1" 'BEGIN { printf "%.3f", span * r / 32767 }'; }
clock_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(clock_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
hub_sql() { sqlite3 "$work/hub/hub.db" "$1"; }
ca_sql() { sqlite3 "$work/company/issuance.db" "$1"; }
mqtt_port() { cat "$work/hub/hubs/contoso.mqtt.port"; }

kill_hub_and_restart() {
  kill -KILL "$hub_pid"
  wait "$hub_pid" 2>/dev/null || true
  start_hub_service
}

# No state without its event, for every CA and every device on the hub.
check_hub_invariants() {
  local broken
  broken=$(hub_sql "
    SELECT 'CA ' || hub || '/' || name || ' has no ca_uploaded event' FROM ca_certificates c
     WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.hub = c.hub AND e.kind = 'ca_uploaded'
                                              AND e.subject = c.subject)
    UNION ALL
    SELECT 'CA ' || hub || '/' || name || ' is Verified without a ca_verified event'
      FROM ca_certificates c WHERE verified = 1
       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.hub = c.hub AND e.kind = 'ca_verified'
                                               AND e.subject = c.subject)
    UNION ALL
    SELECT 'device ' || hub || '/' || device_id || ' has no device_registered event'
      FROM devices d WHERE registration = 'first-connection'
       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.hub = d.hub AND e.kind = 'device_registered'
                                               AND e.subject = d.device_id);")
  [ -z "$broken" ] || fail "after a kill in $1: $broken"
}

# No consumed enrolment secret without the certificate it answered.
check_ca_invariants() {
  local broken
  broken=$(ca_sql "SELECT 'secret for ' || subject || ' used, no certificate recorded'
                     FROM enrolment_secrets s WHERE used_at IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM issued i WHERE i.secret_hash = s.secret_hash);")
  [ -z "$broken" ] || fail "after a kill in $1: $broken"
}

tenants=()
for round in $(seq 0 "$kills"); do tenants+=("tenant-$round"); done
start_hub_service contoso "${tenants[@]}"
company_registered_at contoso
company_pid=$(tail -1 "$work/.server-pids")
company_fp=$("$bin/company" --state "$work/company" fingerprint)

# register-ca, killed at a random point; run again, it finishes the job.
register_at() {
  "$bin/company" --state "$work/company" register-ca --hub "$1" \
    --hub-port "$(cat "$work/hub/api.port")" --hub-fingerprint "$hub_fp" \
    --token-file "$work/hub/hubs/$1.token"
}
started=$(clock_ns)
register_at tenant-0 >/dev/null 2>&1 || fail "register-ca without a kill failed"
register_span=$(seconds_since "$started")
echo "register-ca takes ${register_span}s without a kill"
for round in $(seq "$kills"); do
  delay=$(random_delay "$register_span")
  register_at "tenant-$round" >"$work/register-$round.log" 2>&1 &
  client=$!
  sleep "$delay"
  kill_hub_and_restart
  wait "$client" 2>/dev/null && outcome=finished || outcome=interrupted
  state=$(hub_sql "SELECT CASE verified WHEN 1 THEN 'Verified' ELSE 'Unverified' END
                     FROM ca_certificates WHERE hub = 'tenant-$round'")
  outcome="$outcome, CA ${state:-not stored}"
  check_hub_invariants "register-ca"
  register_at "tenant-$round" >>"$work/register-$round.log" 2>&1 ||
    fail "register-ca did not resume after a kill: $(tail -3 "$work/register-$round.log")"
  [ "$(hub_sql "SELECT verified FROM ca_certificates WHERE hub = 'tenant-$round'")" = 1 ] ||
    fail "tenant-$round's CA is not Verified after register-ca resumed"
  check_hub_invariants "register-ca"
  echo "register-ca round $round: killed after ${delay}s ($outcome), resumed to Verified"
done

# First connections, killed at a random point: every CONNACK'd device kept.
# connect_all ROUND: four new devices connect at once, in the background;
# each that gets its CONNACK is listed in $work/connected-ROUND.
connect_all() {
  : >"$work/connected-$1"
  clients=()
  for i in 1 2 3 4; do
    ( "$bin/device" --state "$work/first-$1-$i" connect --hub-port "$(mqtt_port)" \
        --hub-fingerprint "$hub_fp" >/dev/null 2>&1 && echo "first-$1-$i" >>"$work/connected-$1" ) &
    clients+=($!)
  done
}
for round in $(seq 0 "$kills"); do
  for i in 1 2 3 4; do device_enrolled_at_company "first-$round-$i"; done
done
started=$(clock_ns)
connect_all 0
wait "${clients[@]}"
first_span=$(seconds_since "$started")
echo "four first connections take ${first_span}s without a kill"
for round in $(seq "$kills"); do
  delay=$(random_delay "$first_span")
  connect_all "$round"
  sleep "$delay"
  kill_hub_and_restart
  wait "${clients[@]}" 2>/dev/null || true
  while read -r id; do
    [ "$(hub_sql "SELECT count(*) FROM devices WHERE hub = 'contoso' AND device_id = '$id'")" = 1 ] ||
      fail "$id got CONNACK before the kill, but its record is gone"
  done <"$work/connected-$round"
  check_hub_invariants "first-connection registration"
  echo "first-connection round $round: killed after ${delay}s, $(wc -l <"$work/connected-$round") of 4 acknowledged and kept"
done

# QoS 1 telemetry, killed mid-stream: every PUBACK'd message stored.
for round in $(seq "$kills"); do
  device_enrolled_at_company "sensor-$round"
  : >"$work/acked-$round"
  python3 "$(dirname "$0")/telemetry_client.py" 127.0.0.1 "$(mqtt_port)" "$work/hub/hub-ca.pem" \
    "$work/sensor-$round/fullchain.pem" "$work/sensor-$round/keys/identity-key.key.pem" \
    "sensor-$round" "$work/acked-$round" 2>/dev/null &
  client=$!
  pids+=($client)
  for _ in $(seq 200); do [ -s "$work/acked-$round" ] && break; sleep 0.05; done
  delay=$(random_delay 1)
  sleep "$delay"
  kill_hub_and_restart
  wait "$client" 2>/dev/null || true
  hub_sql "SELECT CAST(payload AS TEXT) FROM telemetry WHERE device_id = 'sensor-$round'" |
    sort >"$work/stored-$round"
  lost=$(sort "$work/acked-$round" | comm -23 - "$work/stored-$round" | head -5)
  [ -z "$lost" ] || fail "acknowledged telemetry lost to a kill: $lost"
  check_hub_invariants "telemetry"
  echo "telemetry round $round: killed ${delay}s into the stream, $(wc -l <"$work/acked-$round") acknowledged, none lost"
done

# EST enrolment, the CA killed at a random point; a failed device retries
# with the same secret and gets the certificate issued for it, if any.
enrol() { "$bin/device" --state "$work/$1" enroll --ca-port "$2" --ca-fingerprint "$company_fp" \
            --secret "$(cat "$work/$1.secret")"; }
# enrol_all ROUND: four devices enrol at once, in the background.
enrol_all() {
  clients=()
  for i in 1 2 3 4; do
    enrol "enrol-$1-$i" "$company_port" >/dev/null 2>&1 &
    clients+=($!)
  done
}
for round in $(seq 0 "$kills"); do
  for i in 1 2 3 4; do
    id="enrol-$round-$i"
    "$bin/company" --state "$work/company" issue-secret --subject "CN=$id" 2>/dev/null >"$work/$id.secret"
    "$bin/device" --state "$work/$id" init --id "$id" --backend file >/dev/null
  done
done
started=$(clock_ns)
enrol_all 0
wait "${clients[@]}" || fail "enrolment without a kill failed"
enrol_span=$(seconds_since "$started")
echo "four enrolments take ${enrol_span}s without a kill"
for round in $(seq "$kills"); do
  delay=$(random_delay "$enrol_span")
  enrol_all "$round"
  sleep "$delay"
  kill -KILL "$company_pid"
  wait "${clients[@]}" 2>/dev/null || true
  check_ca_invariants "EST enrolment"
  company_port=$(serve company "$work/company")
  company_pid=$(tail -1 "$work/.server-pids")
  retried=0 lost=0
  for i in 1 2 3 4; do
    id="enrol-$round-$i"
    if [ ! -s "$work/$id/fullchain.pem" ]; then
      # Issued before the kill, but the answer never arrived: the retry must get it.
      [ "$(ca_sql "SELECT count(*) FROM issued WHERE subject LIKE '%CN=$id'")" = 1 ] && lost=$((lost + 1))
      enrol "$id" "$company_port" >"$work/$id.retry.log" 2>&1 ||
        fail "$id's retry with its own secret was refused: $(tail -2 "$work/$id.retry.log")"
      retried=$((retried + 1))
    fi
    issued=$(ca_sql "SELECT count(*) FROM issued WHERE subject LIKE '%CN=$id'")
    [ "$issued" = 1 ] || fail "$id: $issued certificates issued for one secret"
    want=$(ca_sql "SELECT certificate_pem FROM issued WHERE subject LIKE '%CN=$id'" |
      openssl x509 -noout -fingerprint -sha256)
    got=$(openssl x509 -noout -fingerprint -sha256 -in "$work/$id/fullchain.pem")
    [ "$want" = "$got" ] || fail "$id holds another certificate than the one issued for its secret"
  done
  check_ca_invariants "EST enrolment"
  echo "enrolment round $round: CA killed after ${delay}s, $retried of 4 retried, $lost of them issued before the kill, each got its certificate"
done
echo "PASS: crash loops ($kills kills per flow)"
