#!/usr/bin/env bash
# Devices at the hub, with real processes and real third-party clients
# (mosquitto_pub, openssl s_client): first connection without per-device
# registration, telemetry, cloud-to-device, and every refusal recorded with
# its reason.
bin=$1
source "$(dirname "$0")/common.sh"

api_call() { # api_call HUB METHOD PATH [BODY]
  curl -sS --cacert "$work/hub/hub-ca.pem" -X "$2" \
    -H "Authorization: Bearer $(cat "$work/hub/hubs/$1.token")" ${4:+--data "$4"} \
    "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/$1$3"
}
events() { "$bin/hub" --state "$work/hub" events --name "$1"; }
expect_event() { # expect_event HUB REASON TEXT
  for _ in $(seq 20); do
    events "$1" | grep -q "$2.*$3" && return 0
    sleep 0.1
  done
  fail "hub $1 recorded no '$2' event mentioning '$3': $(events "$1" | tail -5)"
}
enrol_device() { # enrol_device ID BACKEND [KEY_TYPE]
  local secret
  secret=$("$bin/factory" --state "$work/factory" issue-secret --subject "CN=$1" 2>/dev/null)
  "$bin/device" --state "$work/$1" init --id "$1" --backend "$2" --key-type "${3:-ec-p256}" >/dev/null
  "$bin/device" --state "$work/$1" enroll --ca-port "$factory_port" \
    --ca-fingerprint "$factory_fp" --secret "$secret" >/dev/null
}

# Company-X (registered with hub "contoso") -> Factory-Y -> devices.
"$bin/hub" --state "$work/hub" init >/dev/null
for hub in contoso attacker; do "$bin/hub" --state "$work/hub" create --name $hub >/dev/null 2>&1; done
"$bin/hub" --state "$work/hub" serve >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
hub_fp=$("$bin/hub" --state "$work/hub" fingerprint)
"$bin/company" --state "$work/company" init --name Company-X >/dev/null
company_port=$(serve company "$work/company")
"$bin/company" --state "$work/company" register-ca --hub contoso --hub-port "$(cat "$work/hub/api.port")" \
  --hub-fingerprint "$hub_fp" --token-file "$work/hub/hubs/contoso.token" >/dev/null
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=Factory-Y \
  --profile subordinate-ca --path-len 0 2>/dev/null)
"$bin/factory" --state "$work/factory" init --name Factory-Y --parent-port "$company_port" \
  --parent-fingerprint "$("$bin/company" --state "$work/company" fingerprint)" --secret "$secret" >/dev/null
factory_port=$(serve factory "$work/factory")
factory_fp=$("$bin/factory" --state "$work/factory" fingerprint)
enrol_device widget-001 pkcs11
enrol_device widget-002 file
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
attacker_mqtt=$(cat "$work/hub/hubs/attacker.mqtt.port")

# 1. Our device: its first connection registers it; a cloud-to-device
#    message queued while it is away arrives when it next subscribes.
api_call contoso POST /devices/widget-001/messages 'too early' | grep -q '"reason": "not_found"' ||
  fail "a message for a device that never connected should be refused"
"$bin/device" --state "$work/widget-001" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp" >/dev/null ||
  fail "widget-001 could not connect"
api_call contoso POST '/devices/widget-001/messages?properties=kind%3Dgreeting' 'hello widget' >/dev/null
# Properties that would put a wildcard in the message's topic name are
# refused at the API, not sent as a packet the device must refuse.
api_call contoso POST '/devices/widget-001/messages?properties=a%3Db%2Bc' 'x' |
  grep -q '"reason": "malformed_request"' || fail "C2D properties making no topic name were taken"
out=$("$bin/device" --state "$work/widget-001" send --hub-port "$mqtt" --hub-fingerprint "$hub_fp" \
  --message '{"t":21.5}' --receive-seconds 5) || fail "widget-001 could not send: $out"
grep -q 'cloud-to-device message: hello widget' <<<"$out" || fail "no C2D message received: $out"
api_call contoso GET /devices/widget-001/telemetry | grep -q '"payload": "{\\"t\\":21.5}"' ||
  fail "the hub did not record widget-001's telemetry"
api_call contoso GET '/devices?issuer=CN%3DFactory-Y' | grep -q '"deviceId": "widget-001"' ||
  fail "widget-001 is not listed under Factory-Y"

# 2. mosquitto_pub, unmodified, with a chainlab-issued certificate and chain.
pub() { # pub ID CERT [extra mosquitto_pub args]: publish as ID
  local id=$1 cert=$2; shift 2
  timeout 10 mosquitto_pub -h localhost -p "${port:-$mqtt}" --cafile "$work/hub/hub-ca.pem" \
    --cert "$cert" --key "$work/widget-002/keys/identity-key.key.pem" -i "$id" \
    -u "localhost:$mqtt/$id/?api-version=2021-04-12" -q 1 "$@" 2>&1
}
pub widget-002 "$work/widget-002/fullchain.pem" -t devices/widget-002/messages/events/ -m 'from mosquitto' ||
  fail "mosquitto_pub could not publish"
api_call contoso GET /devices/widget-002/telemetry | grep -q 'from mosquitto' || fail "mosquitto telemetry not recorded"

# Devices by first-connection time range, e.g. "installed after July".
api_call contoso GET '/devices?from=2000-01-01T00:00:00Z' | grep -q '"count": 2' ||
  fail "a from= query should find both devices"
api_call contoso GET '/devices?until=2000-01-01T00:00:00Z' | grep -q '"count": 0' ||
  fail "an until= query before any connection should find none"
api_call contoso GET '/devices?from=not-a-date' | grep -q 'query parameter \\"from\\"' ||
  fail "a bad date should be refused naming the parameter"

# 3. Refusals, each with its reason.
if pub widget-002 "$work/widget-002/certificate.pem" -t devices/widget-002/messages/events/ -m x >/dev/null; then
  fail "a chain without its intermediate was accepted"; fi
expect_event contoso issuer_missing "CN=Factory-Y"
if out=$(pub widget-999 "$work/widget-002/fullchain.pem" -t devices/widget-999/messages/events/ -m x); then
  fail "a client ID other than the CN was accepted"; fi
grep -qi 'not authori' <<<"$out" || fail "expected CONNACK 5 (not authorised), got: $out"
expect_event contoso device_id_mismatch "widget-999"
pub widget-002 "$work/widget-002/fullchain.pem" -t devices/widget-001/messages/events/ -m spoof >/dev/null || true
expect_event contoso topic_not_allowed "devices/widget-001"
api_call contoso GET /devices/widget-001/telemetry | grep -q spoof && fail "spoofed telemetry was recorded"
echo | timeout 5 openssl s_client -connect "127.0.0.1:$mqtt" -CAfile "$work/hub/hub-ca.pem" >/dev/null 2>&1 || true
expect_event contoso client_cert_missing "presented no certificate"
# The attacker's hub knows Company-X's CA only as an unverified upload.
api_call attacker PUT /certificates/stolen \
  "$(python3 -c 'import json,sys; print(json.dumps({"certificate": open(sys.argv[1]).read()}))' "$work/company/certificate.pem")" >/dev/null
if "$bin/device" --state "$work/widget-001" connect --hub-port "$attacker_mqtt" --hub-fingerprint "$hub_fp" >/dev/null 2>&1; then
  fail "a device was accepted by a hub whose copy of its CA is unverified"; fi
expect_event attacker ca_unverified "stolen"
# An impostor hub (here: Company-X's EST server) is refused by the device.
expect_refusal server_untrusted "$bin/device" --state "$work/widget-001" connect \
  --hub-port "$company_port" --hub-fingerprint "$hub_fp"
# A disabled device is refused after TLS with CONNACK 5.
api_call contoso POST /devices/widget-001/disable >/dev/null
expect_refusal peer_refused "$bin/device" --state "$work/widget-001" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp"
expect_event contoso device_disabled "widget-001"
api_call contoso POST /devices/widget-001/enable >/dev/null

# 4. A leaked software key: a second holder connects while the first is on.
connected_before=$(events contoso | grep -c 'widget-002 connected from')
timeout 6 mosquitto_sub -h localhost -p "$mqtt" --cafile "$work/hub/hub-ca.pem" \
  --cert "$work/widget-002/fullchain.pem" --key "$work/widget-002/keys/identity-key.key.pem" \
  -i widget-002 -u "localhost:$mqtt/widget-002/?api-version=2021-04-12" \
  -t 'devices/widget-002/messages/devicebound/#' -W 5 >/dev/null 2>&1 &
sub_pid=$!
# Earlier steps already connected widget-002: wait for one more connection.
first_on=
for _ in $(seq 50); do
  [ "$(events contoso | grep -c 'widget-002 connected from')" -gt "$connected_before" ] && { first_on=1; break; }
  sleep 0.1
done
[ -n "$first_on" ] || fail "the first holder of widget-002's key never connected"
pub widget-002 "$work/widget-002/fullchain.pem" -t devices/widget-002/messages/events/ -m clone >/dev/null
expect_event contoso duplicate_connection "widget-002"
kill "$sub_pid" 2>/dev/null || true; wait "$sub_pid" 2>/dev/null || true

# 5. A twin reported-properties patch, then SIGKILL: the hub restarts with
#    every device, twin and event it acknowledged.
pub widget-002 "$work/widget-002/fullchain.pem" -t '$iothub/twin/PATCH/properties/reported/?$rid=1' \
  -m '{"firmware":"1.2.3"}' >/dev/null
api_call contoso GET /devices/widget-002/twin | grep -q '"firmware": "1.2.3"' || fail "the twin patch was not stored"
before=$(events contoso | wc -l)
hub_pid=$(pgrep -f "hub --state $work/hub serve")
kill -KILL "$hub_pid"
wait "$hub_pid" 2>/dev/null || true
rm -f "$work/hub/api.port"
"$bin/hub" --state "$work/hub" serve >>"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
api_call contoso GET /devices | grep -q '"count": 2' || fail "devices lost after SIGKILL"
api_call contoso GET /devices/widget-002/twin | grep -q '"firmware": "1.2.3"' || fail "twin lost after SIGKILL"
[ "$(events contoso | wc -l)" -ge "$before" ] || fail "events lost after SIGKILL"

# 6. Every key share, TLS version and device key type a client may offer:
#    the hub decodes certificate keys with OpenSSL's built-in EC method
#    (ossl/ec_key_decoding), which must not narrow what it accepts.
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
# (TLS 1.2 also needs the hub's P-256 certificate's curve among the groups.)
for offer in X25519/1.3 X448/1.3 prime256v1/1.3 secp384r1/1.3 secp521r1/1.3 prime256v1/1.2; do
  python3 "$(dirname "$0")/key_share_client.py" "$mqtt" "$work/hub/hub-ca.pem" \
    "$work/widget-002/fullchain.pem" "$work/widget-002/keys/identity-key.key.pem" widget-002 \
    "${offer%/*}" "${offer#*/}" >/dev/null || fail "widget-002 offering only ${offer%/*} over TLS ${offer#*/} was refused"
done
for key_type in ec-p384 rsa-2048; do
  enrol_device "widget-$key_type" file "$key_type"
  "$bin/device" --state "$work/widget-$key_type" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp" \
    >/dev/null || fail "a device with an $key_type key could not connect"
done
echo "PASS: devices at the hub"
