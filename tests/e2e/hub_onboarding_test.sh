#!/usr/bin/env bash
# Onboarding policies per CA, with real processes: pre-registered identities
# (as Azure IoT Hub without DPS), pending until approved (as AWS JITR), and
# a device registered one-to-one by certificate thumbprint, the method the
# seed contrasts with CA authentication.
bin=$1
source "$(dirname "$0")/common.sh"

api_call() {
  curl -sS --cacert "$work/hub/hub-ca.pem" -X "$2" \
    -H "Authorization: Bearer $(cat "$work/hub/hubs/$1.token")" ${4:+--data "$4"} \
    "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/$1$3"
}
events() { "$bin/hub" --state "$work/hub" events --name contoso; }
# Refusals in the TLS handshake are written in batches: wait for the batch.
event_recorded() {
  for _ in $(seq 50); do events | grep -q "$1" && return 0; sleep 0.1; done
  return 1
}

"$bin/hub" --state "$work/hub" init >/dev/null
"$bin/hub" --state "$work/hub" create --name contoso >/dev/null 2>&1
"$bin/hub" --state "$work/hub" serve >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
hub_fp=$("$bin/hub" --state "$work/hub" fingerprint)
mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
"$bin/company" --state "$work/company" init --name Company-X >/dev/null
port=$(serve company "$work/company")
fp=$("$bin/company" --state "$work/company" fingerprint)
"$bin/company" --state "$work/company" register-ca --hub contoso --hub-port "$(cat "$work/hub/api.port")" \
  --hub-fingerprint "$hub_fp" --token-file "$work/hub/hubs/contoso.token" >/dev/null
for id in widget-a widget-b; do
  secret=$("$bin/company" --state "$work/company" issue-secret --subject "CN=$id" 2>/dev/null)
  "$bin/device" --state "$work/$id" init --id $id >/dev/null
  "$bin/device" --state "$work/$id" enroll --ca-port "$port" --ca-fingerprint "$fp" --secret "$secret" >/dev/null
done
connect() { "$bin/device" --state "$work/$1" connect --hub-port "$mqtt" --hub-fingerprint "$hub_fp"; }

# Pre-registered: an unknown identity is refused until the operator adds it.
api_call contoso POST /certificates/Company-X/onboarding '{"policy":"pre-registered"}' |
  grep -q '"onboarding": "pre-registered"' || fail "could not set the onboarding policy"
expect_refusal peer_refused connect widget-a
event_recorded 'device_not_registered.*widget-a' || fail "no device_not_registered event"
api_call contoso PUT /devices/widget-a '{}' | grep -q '"registration": "pre-registered"' ||
  fail "could not pre-register widget-a"
connect widget-a >/dev/null || fail "a pre-registered device was refused"
api_call contoso PUT /devices/widget-a '{}' | grep -q '"reason": "duplicate_device"' ||
  fail "registering widget-a twice should be refused (duplicate_device)"

# Approval: the first connection creates a pending identity.
api_call contoso POST /certificates/Company-X/onboarding '{"policy":"approval"}' >/dev/null
expect_refusal peer_refused connect widget-b
api_call contoso GET /devices/widget-b | grep -q '"status": "pending"' || fail "widget-b is not pending"
event_recorded 'device_pending.*widget-b' || fail "no device_pending event"
api_call contoso POST /devices/widget-b/approve >/dev/null
connect widget-b >/dev/null || fail "an approved device was refused"

# Thumbprint: a self-signed device certificate, registered one-to-one.
"$bin/device" --state "$work/thumb" init --id thumb-1 --backend file >/dev/null
key="$work/thumb/keys/identity-key.key.pem"
openssl req -x509 -new -key "$key" -subj /CN=thumb-1 -days 2 -out "$work/thumb.pem" \
  -addext basicConstraints=critical,CA:FALSE -addext keyUsage=critical,digitalSignature \
  -addext extendedKeyUsage=clientAuth 2>/dev/null
pub() {
  timeout 10 mosquitto_pub -h localhost -p "$mqtt" --cafile "$work/hub/hub-ca.pem" --cert "$work/thumb.pem" \
    --key "$key" -i thumb-1 -u "localhost:$mqtt/thumb-1/?api-version=2021-04-12" -q 1 \
    -t devices/thumb-1/messages/events/ -m "$1" 2>&1
}
pub before >/dev/null && fail "an unregistered self-signed certificate was accepted"
event_recorded 'ca_unknown.*CN=thumb-1' || fail "no ca_unknown event for the unregistered certificate"
thumbprint=$(openssl x509 -in "$work/thumb.pem" -noout -fingerprint -sha256 | cut -d= -f2)
api_call contoso PUT /devices/thumb-1 "{\"thumbprint\":\"$thumbprint\"}" | grep -q '"registration": "thumbprint"' ||
  fail "could not register thumb-1 by thumbprint"
pub after >/dev/null || fail "the thumbprint-registered device was refused"
api_call contoso GET /devices/thumb-1/telemetry | grep -q after || fail "thumb-1's telemetry was not recorded"
echo "PASS: onboarding policies and thumbprint registration"
