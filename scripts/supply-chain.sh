#!/usr/bin/env bash
# supply-chain.sh BIN_DIR WORK_DIR
# The seed's story as separate processes over loopback:
# Company-X registers its CA with the hub (proof of possession), then
# Company-X -> Factory-Y -> Technician-Z -> widget-001..003, each key in its
# own SoftHSM token, every certificate enrolled over EST, then checked with
# `openssl verify`. Exits non-zero if any step or any verification fails.
set -euo pipefail

bin=$(cd "$1" && pwd)
work=$2
mkdir -p "$work"
work=$(cd "$work" && pwd)
pids=()

stop_servers() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_servers EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# start_ca ROLE DIR: run the CA's EST server in the background and wait
# for the port it chose (ephemeral) to appear in DIR/est.port.
start_ca() {
  local role=$1 dir=$2
  "$bin/$role" --state "$dir" serve &
  pids+=($!)
  for _ in $(seq 100); do
    [ -s "$dir/est.port" ] && return 0
    sleep 0.1
  done
  echo "$role did not start its EST server" >&2
  return 1
}

step "Company-X creates its root CA: a key inside its own token, then a self-signed certificate"
"$bin/company" --state "$work/company-x" init --name Company-X
start_ca company "$work/company-x"
company_port=$(cat "$work/company-x/est.port")
company_fp=$("$bin/company" --state "$work/company-x" fingerprint)

step "The IoT hub service starts, with a hub for Company-X; Company-X registers its CA once, proving possession of its key"
"$bin/hub" --state "$work/hub" init
"$bin/hub" --state "$work/hub" create --name company-x-hub >/dev/null
"$bin/hub" --state "$work/hub" serve &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
"$bin/company" --state "$work/company-x" register-ca --hub company-x-hub \
  --hub-port "$(cat "$work/hub/api.port")" \
  --hub-fingerprint "$("$bin/hub" --state "$work/hub" fingerprint)" \
  --token-file "$work/hub/hubs/company-x-hub.token"

step "Company-X signs Factory-Y into the chain (once): a one-time secret, then EST enrolment"
secret=$("$bin/company" --state "$work/company-x" issue-secret \
  --subject CN=Factory-Y --profile subordinate-ca --path-len 1)
"$bin/factory" --state "$work/factory-y" init --name Factory-Y \
  --parent-name Company-X --parent-port "$company_port" \
  --parent-fingerprint "$company_fp" --secret "$secret"
start_ca factory "$work/factory-y"
factory_port=$(cat "$work/factory-y/est.port")
factory_fp=$("$bin/factory" --state "$work/factory-y" fingerprint)

step "Factory-Y signs Technician-Z, the installer, into the chain"
secret=$("$bin/factory" --state "$work/factory-y" issue-secret \
  --subject CN=Technician-Z --profile subordinate-ca --path-len 0)
"$bin/technician" --state "$work/technician-z" init --name Technician-Z \
  --parent-name Factory-Y --parent-port "$factory_port" \
  --parent-fingerprint "$factory_fp" --secret "$secret"
start_ca technician "$work/technician-z"
technician_port=$(cat "$work/technician-z/est.port")
technician_fp=$("$bin/technician" --state "$work/technician-z" fingerprint)

for widget in widget-001 widget-002 widget-003; do
  step "$widget makes its key inside its own token; Technician-Z signs its CSR and installs the chain"
  secret=$("$bin/technician" --state "$work/technician-z" issue-secret \
    --subject "CN=$widget" --profile device)
  "$bin/device" --state "$work/$widget" init --id "$widget"
  "$bin/device" --state "$work/$widget" enroll --ca-name Technician-Z \
    --ca-port "$technician_port" --ca-fingerprint "$technician_fp" --secret "$secret"
done

step "What widget-001 carries: its certificate, the installed chain, and where its key lives"
"$bin/device" --state "$work/widget-001" show

step "widget-001 connects to the hub for the first time: no per-device registration, its chain ends at Company-X's verified CA"
hub_fp=$("$bin/hub" --state "$work/hub" fingerprint)
mqtt_port=$(cat "$work/hub/hubs/company-x-hub.mqtt.port")
"$bin/device" --state "$work/widget-001" send --hub-port "$mqtt_port" --hub-fingerprint "$hub_fp" \
  --message '{"temperature":21.5,"humidity":40}'

step "The hub's registry groups devices by the chain: everything installed by Technician-Z"
curl -sS --cacert "$work/hub/hub-ca.pem" \
  -H "Authorization: Bearer $(cat "$work/hub/hubs/company-x-hub.token")" \
  "https://127.0.0.1:$(cat "$work/hub/api.port")/hubs/company-x-hub/devices?issuer=CN%3DTechnician-Z"
echo

step "What the hub recorded for Company-X's hub"
"$bin/hub" --state "$work/hub" events --name company-x-hub

step "What each CA recorded (accountability: every signature is on file)"
for ca in company:company-x factory:factory-y technician:technician-z; do
  echo "-- ${ca#*:}"
  "$bin/${ca%%:*}" --state "$work/${ca#*:}" list
done

step "Independent check with OpenSSL: every device chains to Company-X's root for TLS client auth"
status=0
for widget in widget-001 widget-002 widget-003; do
  dir="$work/$widget"
  echo "\$ openssl verify -x509_strict -purpose sslclient -CAfile $dir/root.pem -untrusted $dir/intermediates.pem $dir/certificate.pem"
  openssl verify -x509_strict -purpose sslclient -CAfile "$dir/root.pem" \
    -untrusted "$dir/intermediates.pem" "$dir/certificate.pem" || status=1
done
exit $status
