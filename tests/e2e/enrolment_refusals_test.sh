#!/usr/bin/env bash
# Enrolment refusals with real processes over loopback: each fails with its
# reason code on stderr, a non-zero exit, and nothing issued by the CA.
bin=$1
source "$(dirname "$0")/common.sh"

issued_devices() { "$bin/company" --state "$work/company" list | grep -c '^[0-9a-f].* device ' || true; }

"$bin/company" --state "$work/company" init --name Company-X >/dev/null
port=$(serve company "$work/company")
fp=$("$bin/company" --state "$work/company" fingerprint)

"$bin/device" --state "$work/widget" init --id widget-001 >/dev/null

# A server whose certificate is not the pinned one is refused before any
# secret is sent.
other_fp=$(printf '%064d' 0 | sed 's/../&:/g; s/:$//')
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=widget-001 2>/dev/null)
expect_refusal server_untrusted "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$other_fp" --secret "$secret"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_refusal peer_unreachable "$bin/device" --state "$work/widget" enroll \
  --ca-port "$closed_port" --ca-fingerprint "$fp" --secret "$secret"
expect_refusal secret_missing "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp"
expect_refusal secret_unknown "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp" --secret 00000000000000000000000000000000
wrong=$("$bin/company" --state "$work/company" issue-secret --subject CN=widget-002 2>/dev/null)
expect_refusal subject_mismatch "$bin/device" --state "$work/widget" enroll \
  --ca-port "$port" --ca-fingerprint "$fp" --secret "$wrong"
# A one-second secret issued by a clock ten seconds behind has expired by
# the CA's clock (no waiting for time to pass).
expired=$(CHAINLAB_CLOCK_OFFSET_SECONDS=-10 "$bin/company" --state "$work/company" issue-secret \
  --subject CN=widget-001 --expires-in 1 2>/dev/null)
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
