#!/usr/bin/env bash
# Interop with the unmodified Azure IoT Node.js device SDK (npm
# azure-iot-device + azure-iot-device-mqtt): given a chainlab-issued
# certificate and chain it connects, sends telemetry the hub records and
# receives a cloud-to-device message and answers a direct method; a chain
# without its intermediate is refused, and the hub says which issuer was
# missing.
bin=$1 node_dir=$2 node_cache=$3
source "$(dirname "$0")/../e2e/common.sh"

# The SDK, installed once per build tree from the pinned package.json.
if [ ! -d "$node_cache/node_modules/azure-iot-device-mqtt" ]; then
  mkdir -p "$node_cache"
  cp "$node_dir/package.json" "$node_cache/"
  (cd "$node_cache" && npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
    fail "npm could not install the Azure IoT device SDK"
fi
cp "$node_dir/device.js" "$node_cache/"

api_call() {
  curl -sS --cacert "$work/hub/hub-ca.pem" -X "$2" \
    -H "Authorization: Bearer $(cat "$work/hub/hubs/$1.token")" ${4:+--data "$4"} \
    "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/$1$3"
}

"$bin/hub" --state "$work/hub" init >/dev/null
"$bin/hub" --state "$work/hub" create --name contoso >/dev/null 2>&1
"$bin/hub" --state "$work/hub" serve >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
"$bin/company" --state "$work/company" init --name Company-X >/dev/null
company_port=$(serve company "$work/company")
"$bin/company" --state "$work/company" register-ca --hub contoso --hub-port "$(cat "$work/hub/api.port")" \
  --hub-fingerprint "$("$bin/hub" --state "$work/hub" fingerprint)" \
  --token-file "$work/hub/hubs/contoso.token" >/dev/null
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=Factory-Y \
  --profile subordinate-ca --path-len 0 2>/dev/null)
"$bin/factory" --state "$work/factory" init --name Factory-Y --parent-port "$company_port" \
  --parent-fingerprint "$("$bin/company" --state "$work/company" fingerprint)" --secret "$secret" >/dev/null
factory_port=$(serve factory "$work/factory")
secret=$("$bin/factory" --state "$work/factory" issue-secret --subject CN=node-widget 2>/dev/null)
# The SDK needs the key as a PEM file: a software-key device.
"$bin/device" --state "$work/node-widget" init --id node-widget --backend file >/dev/null
"$bin/device" --state "$work/node-widget" enroll --ca-port "$factory_port" \
  --ca-fingerprint "$("$bin/factory" --state "$work/factory" fingerprint)" --secret "$secret" >/dev/null

mqtt=$(cat "$work/hub/hubs/contoso.mqtt.port")
dev="$work/node-widget"
run_sdk() { node "$node_cache/device.js" "$mqtt" node-widget "$1" "$dev/keys/identity-key.key.pem" \
  "$work/hub/hub-ca.pem" "${2:-}"; }

# Connect, send, then wait for a cloud-to-device message.
run_sdk "$dev/fullchain.pem" receive >"$work/sdk.out" 2>&1 &
sdk_pid=$!
for _ in $(seq 150); do grep -qE '^(SENT|ERROR)' "$work/sdk.out" && break; sleep 0.1; done
grep -q '^SENT' "$work/sdk.out" || fail "the SDK did not send: $(cat "$work/sdk.out")"
api_call contoso POST /devices/node-widget/messages 'hello from the hub' >/dev/null
wait "$sdk_pid" || fail "the SDK failed: $(cat "$work/sdk.out")"
grep -q '^C2D hello from the hub' "$work/sdk.out" || fail "no C2D message: $(cat "$work/sdk.out")"
api_call contoso GET /devices/node-widget/telemetry | grep -q 'temperature' ||
  fail "the hub did not record the SDK's telemetry"
echo "SDK: $(tr '\n' ' ' <"$work/sdk.out")"

# A direct method call answered by the SDK's onDeviceMethod handler.
run_sdk "$dev/fullchain.pem" methods >"$work/sdk-methods.out" 2>&1 &
sdk_pid=$!
for _ in $(seq 150); do grep -qE '^(LISTENING|ERROR)' "$work/sdk-methods.out" && break; sleep 0.1; done
answer=""
for _ in $(seq 50); do # the SDK subscribes to methods just after it says LISTENING
  answer=$(api_call contoso POST '/devices/node-widget/methods/reboot?timeout=10' '{"delay":5}')
  grep -q '"status": 200' <<<"$answer" && break
  sleep 0.1
done
grep -q '"rebooted": true' <<<"$answer" || fail "the method call got no answer: $answer $(cat "$work/sdk-methods.out")"
wait "$sdk_pid" || fail "the SDK failed answering the method: $(cat "$work/sdk-methods.out")"
echo "SDK answered direct method reboot: $(tr -d '\n ' <<<"$answer")"

# Without its intermediate the chain is refused, and the hub says why.
out=$(run_sdk "$dev/certificate.pem" 2>&1) && fail "a chain without its intermediate was accepted"
grep -q '^ERROR UnauthorizedError' <<<"$out" || fail "expected the SDK's UnauthorizedError, got: $out"
grep -q 'unknown ca' <<<"$out" || fail "expected TLS alert unknown_ca, got: $out"
echo "SDK without intermediate: $out"
for _ in $(seq 20); do
  "$bin/hub" --state "$work/hub" events --name contoso | grep -q 'issuer_missing.*CN=Factory-Y' && break
  sleep 0.1
done
"$bin/hub" --state "$work/hub" events --name contoso | grep -q 'issuer_missing.*CN=Factory-Y' ||
  fail "the hub did not record issuer_missing naming CN=Factory-Y"
echo "PASS: Azure IoT Node.js SDK interop"
