#!/usr/bin/env bash
# Enrolment refusals with real processes over loopback: each fails with its
# reason code on stderr, a non-zero exit, and nothing issued by the CA.
set -euo pipefail
bin=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/chainlab-e2e-XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_refusal REASON COMMAND...: the command must fail naming REASON.
expect_refusal() {
  local reason=$1; shift
  local rc=0 err
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "expected refusal ($reason) but it succeeded: $*"
  grep -q "error ($reason)" <<<"$err" || fail "expected ($reason), got: $err"
  echo "refused as expected ($reason): ${err##*): }"
}

issued_devices() { "$bin/company" --state "$work/company" list | grep -c '^[0-9a-f].* device ' || true; }

"$bin/company" --state "$work/company" init --name Company-X >/dev/null
"$bin/company" --state "$work/company" serve >"$work/company.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/company/est.port" ] && break; sleep 0.1; done
port=$(cat "$work/company/est.port")
fp=$("$bin/company" --state "$work/company" fingerprint)

"$bin/device" --state "$work/widget" init --id widget-001 >/dev/null

# A server whose certificate is not the pinned one is refused before any
# secret is sent.
other_fp=$(printf '%064d' 0 | sed 's/../&:/g; s/:$//')
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=widget-001 2>/dev/null)
expect_refusal server_untrusted "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$other_fp" --secret "$secret"
expect_refusal secret_missing "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp"
expect_refusal secret_unknown "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp" --secret 00000000000000000000000000000000
wrong=$("$bin/company" --state "$work/company" issue-secret --subject CN=widget-002 2>/dev/null)
expect_refusal subject_mismatch "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp" --secret "$wrong"
expired=$("$bin/company" --state "$work/company" issue-secret --subject CN=widget-001 --expires-in 1 2>/dev/null)
sleep 2
expect_refusal secret_expired "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp" --secret "$expired"
[ "$(issued_devices)" = 0 ] || fail "a refused enrolment issued a certificate"

# The right secret works once; a second device cannot reuse it.
"$bin/device" --state "$work/widget" enroll --ca-port "$port" --ca-fingerprint "$fp" \
  --secret "$secret" >/dev/null
"$bin/device" --state "$work/clone" init --id widget-001 >/dev/null
expect_refusal secret_used "$bin/device" --state "$work/clone" enroll \
  --ca-port "$port" --ca-fingerprint "$fp" --secret "$secret"
[ "$(issued_devices)" = 1 ] || fail "expected exactly one device certificate, got $(issued_devices)"

# Renewal over TLS client auth with the current certificate and token key.
before=$(openssl x509 -in "$work/widget/certificate.pem" -noout -serial)
"$bin/device" --state "$work/widget" reenroll >/dev/null
after=$(openssl x509 -in "$work/widget/certificate.pem" -noout -serial)
[ "$before" != "$after" ] || fail "reenroll did not replace the certificate"
# A device that was never enrolled has nothing to renew with.
expect_refusal config_invalid "$bin/device" --state "$work/clone" reenroll

# Bad command-line input names the field.
expect_refusal invalid_device_id "$bin/device" --state "$work/bad" init --id "widget 001"
echo "PASS: enrolment refusals"
