#!/usr/bin/env bash
# Regression tests for what one hostile or careless client could once do to
# a server: crash it, stall it, hold it, or make it keep what it must not.
# Raw MQTT (mosquitto_pub/sub, python3 ssl) where chainlab's own device
# cannot misbehave that way.
bin=$1
source "$(dirname "$0")/common.sh"

api_url() { echo "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/$1$2"; }
api_call() { # api_call HUB METHOD PATH [BODY]
  curl -sS --cacert "$work/hub/hub-ca.pem" -X "$2" \
    -H "Authorization: Bearer $(cat "$work/hub/hubs/$1.token")" ${4:+--data "$4"} "$(api_url "$1" "$3")"
}
status_of() { # status_of CURL-ARGS...: the HTTP status only
  curl -sS -o "$work/body" -w '%{http_code}' --cacert "$work/hub/hub-ca.pem" "$@"
}
events() { # every page of contoso's history, one after another
  local after=0 page
  while page=$(api_call contoso GET "/events?after=$after"); do
    echo "$page"
    after=$(python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["next"] if p["more"] else "")' <<<"$page")
    [ -n "$after" ] || return 0
  done
  return 1
}
expect_event() { # expect_event REASON TEXT
  for _ in $(seq 30); do events | grep -q "\"reason\": \"$1\"" && events | grep -q "$2" && return 0; sleep 0.1; done
  fail "no $1 event mentioning '$2'"
}
hub_serves() { api_call attacker GET /certificates | grep -q '"certificates"' || fail "the hub stopped serving after: $1"; }
start_est() { # start_est ROLE DIR: in this shell, so cleanup stops it
  "$bin/$1" --state "$2" serve >"$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$2/est.port" ] && break; sleep 0.1; done
  [ -s "$2/est.port" ] || fail "$1 did not start: $(cat "$2.log")"
}

"$bin/hub" --state "$work/hub" init >/dev/null
for hub in contoso attacker; do "$bin/hub" --state "$work/hub" create --name $hub >/dev/null 2>&1; done
"$bin/hub" --state "$work/hub" serve >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
hub_fp=$("$bin/hub" --state "$work/hub" fingerprint)
"$bin/company" --state "$work/company" init --name Company-X >/dev/null
start_est company "$work/company"
"$bin/company" --state "$work/company" register-ca --hub contoso --hub-port "$(cat "$work/hub/api.port")" \
  --hub-fingerprint "$hub_fp" --token-file "$work/hub/hubs/contoso.token" >/dev/null
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=widget-002 2>/dev/null)
"$bin/device" --state "$work/widget-002" init --id widget-002 --backend file >/dev/null
"$bin/device" --state "$work/widget-002" enroll --ca-port "$(cat "$work/company/est.port")" \
  --ca-fingerprint "$("$bin/company" --state "$work/company" fingerprint)" --secret "$secret" >/dev/null
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
mqtt_args=(-h localhost -p "$mqtt" --cafile "$work/hub/hub-ca.pem" --cert "$work/widget-002/fullchain.pem"
  --key "$work/widget-002/keys/identity-key.key.pem" -i widget-002
  -u "localhost:$mqtt/widget-002/?api-version=2021-04-12")
pub() { timeout 10 mosquitto_pub "${mqtt_args[@]}" -q 1 "$@"; }

# 1. "====" as base64: a 400 with its reason from the EST server and the
#    hub, and both still serve.
est="https://127.0.0.1:$(cat "$work/company/est.port")/.well-known/est"
code=$(curl -sS -k -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/pkcs10' \
  --data '====' "$est/simpleenroll")
[ "$code" = 400 ] || fail "EST ==== answered $code: $(cat "$work/body")"
[ "$(curl -sS -k -o /dev/null -w '%{http_code}' "$est/cacerts")" = 200 ] || fail "EST stopped serving after ===="
api_call contoso PUT /certificates/x '{"certificate":"===="}' | grep -q '"reason": "malformed_request"' ||
  fail "the hub's certificate field did not refuse ==== with malformed_request"
hub_serves "===="

# 2. Binary telemetry is stored as bytes and read back as base64.
printf '\x80\x81\xff\x00\xfe' >"$work/binary"
pub -t devices/widget-002/messages/events/ -f "$work/binary" || fail "binary telemetry not accepted"
api_call contoso GET /devices/widget-002/telemetry >"$work/telemetry"
grep -q '"encoding": "base64"' "$work/telemetry" || fail "binary telemetry not returned as base64: $(cat "$work/telemetry")"
grep -q '"payload": "gIH/AP4="' "$work/telemetry" || fail "binary telemetry bytes changed"
hub_serves "binary telemetry"

# 3. Twin patches: 60,000 levels deep and over 32 KB are refused, naming the limit.
python3 -c "print('[' * 60000 + ']' * 60000, end='')" >"$work/deep.json" # 120 KB
pub -t '$iothub/twin/PATCH/properties/reported/?$rid=1' -f "$work/deep.json" || true
expect_event limit_exceeded "10 levels"
hub_serves "a twin patch 60,000 levels deep"
python3 -c "print('{\"big\":\"' + 'x' * 40000 + '\"}', end='')" >"$work/big.json"
pub -t '$iothub/twin/PATCH/properties/reported/?$rid=2' -f "$work/big.json" || true
expect_event limit_exceeded "32768 bytes"
api_call contoso GET /devices/widget-002/twin | grep -q '"big"' && fail "the oversized twin was stored"

# 4. Oversized requests are answered with their status and a JSON reason.
token="Authorization: Bearer $(cat "$work/hub/hubs/contoso.token")"
head -c 2000000 /dev/zero | tr '\0' a >"$work/huge"
[ "$(status_of -H "$token" -X PUT --data-binary @"$work/huge" "$(api_url contoso /certificates/x)")" = 413 ] ||
  fail "a 2 MB body was not answered 413"
grep -q body_too_large "$work/body" || fail "413 without its reason: $(cat "$work/body")"
long=$(head -c 10000 /dev/zero | tr '\0' a)
[ "$(status_of -H "$token" "$(api_url contoso "/$long")")" = 414 ] || fail "a 10,000-character URL was not answered 414"
grep -q uri_too_long "$work/body" || fail "414 without its reason"
[ "$(status_of -H "$token" -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' b)" "$(api_url contoso /certificates)")" = 431 ] ||
  fail "20 KB of headers were not answered 431"
grep -q headers_too_large "$work/body" || fail "431 without its reason"
hub_serves "oversized requests"

# 5. Eight direct-method calls wait on a device that never answers; another
#    tenant's API still answers at once.
# -d -v and line buffering: the log shows the SUBACK and each method request.
timeout 30 stdbuf -oL mosquitto_sub -d -v "${mqtt_args[@]}" -t '$iothub/methods/POST/#' \
  -t 'devices/widget-002/messages/devicebound/#' >"$work/sub.log" 2>&1 &
sub=$!
pids+=($sub)
wait_in_sub_log() { # wait_in_sub_log COUNT PATTERN WHAT
  for _ in $(seq 100); do [ "$(cat "$work/sub.log" 2>/dev/null | grep -c -- "$2")" -ge "$1" ] && return 0; sleep 0.1; done
  fail "the device never saw $3: $(tail -3 "$work/sub.log")"
}
wait_in_sub_log 1 'received SUBACK' "its SUBACK"
callers=()
for i in $(seq 8); do
  api_call contoso POST "/devices/widget-002/methods/reboot?timeout=20" '{}' >/dev/null 2>&1 &
  callers+=($!)
done
wait_in_sub_log 8 '^\$iothub/methods/POST/reboot' "eight method requests"
started=$(date +%s%N)
hub_serves "eight pending method calls"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
[ "$elapsed_ms" -lt 2000 ] || fail "another tenant's API waited ${elapsed_ms} ms behind eight method calls"
echo "another tenant answered in ${elapsed_ms} ms with eight method calls pending"

# 6. Disabling a connected device ends its session within 2 s.
api_call contoso POST /devices/widget-002/disable >/dev/null
for _ in $(seq 20); do kill -0 "$sub" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sub" 2>/dev/null && fail "the disabled device's session was still open after 2 s"
expect_event device_disabled "ended the live session of widget-002"
for caller in "${callers[@]}"; do kill "$caller" 2>/dev/null || true; done
api_call contoso POST /devices/widget-002/enable >/dev/null

# 7. A CONNECT trickled one byte a second is cut at the total deadline (10 s).
python3 - "$mqtt" "$work" <<'PY' || fail "the trickled CONNECT was not cut at the deadline"
import socket, ssl, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=f"{work}/hub/hub-ca.pem")
context.load_cert_chain(f"{work}/widget-002/fullchain.pem", f"{work}/widget-002/keys/identity-key.key.pem")
start = time.monotonic()
with socket.create_connection(("localhost", port)) as raw, \
        context.wrap_socket(raw, server_hostname="localhost") as tls:
    connect = bytes([0x10, 0x7f]) + bytes(127)
    try:
        for byte in connect:
            tls.sendall(bytes([byte]))
            time.sleep(1)
            if time.monotonic() - start > 20:
                sys.exit("still open after 20 s")
        sys.exit("the whole CONNECT was sent")
    except (OSError, ssl.SSLError):
        pass
    elapsed = time.monotonic() - start
    print(f"trickled CONNECT cut after {elapsed:.1f} s")
    sys.exit(0 if elapsed < 14 else 1)
PY
hub_serves "a trickled CONNECT"

# 9. Keep-alive: each packet moves the deadline (a device pinging every
#    0.5 s with a 2 s keep-alive stays for 4 s, busy enough for the hub to keep
#    its TLS buffers), and silence ends the session after 1.5 keep-alives (3 s;
#    the upper bound leaves room for a loaded machine).
PYTHONPATH="$(dirname "$0")" python3 - "$mqtt" "$work" <<'PY' || fail "keep-alive was not enforced as MQTT says"
import socket, ssl, sys, time
from mqtt_wire import packet, read_packet, string
port, work = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=f"{work}/hub/hub-ca.pem")
context.load_cert_chain(f"{work}/widget-002/fullchain.pem", f"{work}/widget-002/keys/identity-key.key.pem")
with socket.create_connection(("localhost", port)) as raw, \
        context.wrap_socket(raw, server_hostname="localhost") as tls:
    stream = tls.makefile("rb")
    username = f"localhost:{port}/widget-002/?api-version=2021-04-12"
    body = string("MQTT") + bytes([4, 0x82]) + (2).to_bytes(2, "big") + string("widget-002") + string(username)
    tls.sendall(packet(0x10, body))
    first, connack = read_packet(stream)
    if first != 0x20 or connack[1] != 0:
        sys.exit(f"no CONNACK accepted: {first:#x} {connack!r}")
    for _ in range(8):
        time.sleep(0.5)
        tls.sendall(packet(0xC0, b""))  # PINGREQ
        if read_packet(stream)[0] != 0xD0:
            sys.exit("no PINGRESP")
    silent = time.monotonic()
    try:
        while read_packet(stream):
            pass
    except (EOFError, OSError, ssl.SSLError, IndexError):
        pass
    waited = time.monotonic() - silent
    print(f"closed {waited:.1f} s after the last PINGREQ")
    sys.exit(0 if 2.5 <= waited < 8 else 1)
PY
hub_serves "a device that fell silent"

# 8. The live page: the page needs no token and shows no data; its data and
#    its event stream need the hub's token; one stream stays open and brings
#    each new event as it happens.
[ "$(status_of "$(api_url contoso /dashboard)")" = 200 ] || fail "the live page is not served"
grep -q 'id="signin"' "$work/body" || fail "the live page has no sign-in form"
[ "$(status_of "$(api_url contoso /dashboard/state)")" = 401 ] || fail "the live page's state without a token"
[ "$(status_of "$(api_url contoso /dashboard/events)")" = 401 ] || fail "the event stream without a token"
cursor=$(api_call contoso GET /dashboard/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')
curl -sSN --cacert "$work/hub/hub-ca.pem" -H "Authorization: Bearer $(cat "$work/hub/hubs/contoso.token")" \
  -H "Last-Event-ID: $cursor" "$(api_url contoso /dashboard/events)" >"$work/stream" 2>&1 &
stream_pid=$!
pids+=($stream_pid)
for verb in disable enable; do
  kind=ca_${verb}d
  api_call contoso POST "/certificates/Company-X/$verb" | grep -q '"name"' || fail "could not $verb the CA"
  for _ in $(seq 50); do grep -q "\"kind\":\"$kind\"" "$work/stream" && break; sleep 0.1; done
  grep -q "\"kind\":\"$kind\"" "$work/stream" || fail "the stream did not bring $kind: $(cat "$work/stream")"
  kill -0 $stream_pid 2>/dev/null || fail "the stream closed after $kind"
done
grep -q "text/event-stream" <(curl -sS -D - -o /dev/null --max-time 2 --cacert "$work/hub/hub-ca.pem" \
  -H "Authorization: Bearer $(cat "$work/hub/hubs/contoso.token")" "$(api_url contoso /dashboard/events)") ||
  fail "the event stream is not text/event-stream"
kill $stream_pid
hub_serves "a live page's stream"
echo "PASS: hostile clients"
