#!/usr/bin/env bash
# CA registration with real processes: Company-X registers its HSM-held CA
# with the hub; an attacker's hub on the same service gets a stolen copy
# of the certificate and a captured verification certificate, and both
# fail; a hub killed with SIGKILL restarts with everything it acknowledged.
bin=$1
source "$(dirname "$0")/common.sh"

start_hub() {
  rm -f "$work/hub/api.port"
  "$bin/hub" --state "$work/hub" serve "$@" >>"$work/hub.log" 2>&1 &
  hub_pid=$!
  pids+=($hub_pid)
  for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
  [ -s "$work/hub/api.port" ] || fail "the hub did not start: $(cat "$work/hub.log")"
  api="https://127.0.0.1:$(cat "$work/hub/api.port")"
}
# api_call HUB METHOD PATH [JSON]: the service API as an operator (or an
# attacker) would call it; prints the body, fails on transport errors.
api_call() {
  local hub=$1 method=$2 path=$3 body=${4:-}
  curl -sS --cacert "$work/hub/hub-ca.pem" -X "$method" \
    -H "Authorization: Bearer $(cat "$work/hub/hubs/$hub.token")" \
    -H 'Content-Type: application/json' ${body:+--data "$body"} "$api/hubs/$hub$path"
}
json_cert() { python3 -c 'import json,sys; print(json.dumps({"certificate": open(sys.argv[1]).read()}))' "$1"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }

"$bin/hub" --state "$work/hub" init >/dev/null
"$bin/hub" --state "$work/hub" create --name contoso >/dev/null 2>&1
"$bin/hub" --state "$work/hub" create --name attacker >/dev/null 2>&1
start_hub
hub_fp=$("$bin/hub" --state "$work/hub" fingerprint)

"$bin/company" --state "$work/company" init --name Company-X >/dev/null
out=$("$bin/company" --state "$work/company" register-ca --hub contoso \
  --hub-port "$(cat "$work/hub/api.port")" --hub-fingerprint "$hub_fp" \
  --token-file "$work/hub/hubs/contoso.token")
grep -q 'status Verified' <<<"$out" || fail "register-ca did not end Verified: $out"
grep -q "with the CA key inside PKCS#11 token 'Company-X'" <<<"$out" ||
  fail "the verification certificate was not signed in the token"

# The attacker uploads the (public) CA certificate to its own hub.
status=$(api_call attacker PUT /certificates/stolen "$(json_cert "$work/company/certificate.pem")" | field status)
[ "$status" = Unverified ] || fail "the stolen upload should be Unverified, got '$status'"
api_call attacker POST /certificates/stolen/generateVerificationCode >/dev/null
# ...and replays Company-X's captured verification certificate.
sqlite3 "$work/company/issuance.db" \
  "select certificate_pem from issued where profile = 'verification'" >"$work/captured.pem"
reason=$(api_call attacker POST /certificates/stolen/verify "$(json_cert "$work/captured.pem")" | field reason)
[ "$reason" = verification_code_mismatch ] || fail "replay on the attacker's hub: got '$reason'"
reason=$(api_call contoso POST /certificates/Company-X/verify "$(json_cert "$work/captured.pem")" | field reason)
[ "$reason" = verification_code_used ] || fail "replay on the owner's hub: got '$reason'"
[ "$(api_call attacker GET /certificates/stolen | field status)" = Unverified ] ||
  fail "the stolen CA became Verified"

# A private key in an upload is refused and found nowhere in the hub's state.
"$bin/company" --state "$work/soft" init --name Soft-CA --backend file >/dev/null
cat "$work/soft/certificate.pem" "$work/soft/keys/identity-key.key.pem" >"$work/with-key.pem"
reason=$(api_call contoso PUT /certificates/soft "$(json_cert "$work/with-key.pem")" | field reason)
[ "$reason" = private_key_in_upload ] || fail "upload with key: got '$reason'"
key_line=$(sed -n 2p "$work/soft/keys/identity-key.key.pem")
if grep -rqF "$key_line" "$work/hub" "$work/hub.log"; then fail "the uploaded key reached the hub's state"; fi

# SIGKILL, restart: every acknowledged fact is still there.
kill -KILL "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
start_hub --code-lifetime 1
[ "$(api_call contoso GET /certificates/Company-X | field status)" = Verified ] ||
  fail "the Verified CA did not survive SIGKILL"
events=$("$bin/hub" --state "$work/hub" events --name attacker)
grep -q 'verification_code_mismatch=1' <<<"$events" || fail "attacker's refusal not counted: $events"
grep -q "private_key_in_upload=1" <("$bin/hub" --state "$work/hub" events --name contoso) ||
  fail "private-key refusal not counted"
# Restarted with one-second codes: a code answered too late has expired.
# (The code is kept durably; the hub restarted with its clock five seconds
# ahead sees it expired, without waiting for time to pass.)
api_call contoso POST /certificates/Company-X/generateVerificationCode >/dev/null
kill -TERM "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
CHAINLAB_CLOCK_OFFSET_SECONDS=5 start_hub --code-lifetime 1
reason=$(api_call contoso POST /certificates/Company-X/verify "$(json_cert "$work/captured.pem")" | field reason)
[ "$reason" = verification_code_expired ] || fail "a late answer: got '$reason'"

# register-ca is safe to run again: after a finished run it does nothing;
# after a run interrupted between upload and proof it finishes the proof.
register() {
  "$bin/company" --state "$work/company" register-ca --hub "$1" --hub-port "$(cat "$work/hub/api.port")" \
    --hub-fingerprint "$hub_fp" --token-file "$work/hub/hubs/$1.token"
}
out=$(register contoso) || fail "re-running a finished register-ca failed: $out"
grep -q "Verified: nothing to do" <<<"$out" || fail "re-running register-ca did something: $out"
"$bin/hub" --state "$work/hub" create --name fabrikam >/dev/null 2>&1 || true
kill -TERM "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
start_hub
api_call fabrikam PUT /certificates/Company-X "$(json_cert "$work/company/certificate.pem")" >/dev/null
out=$(register fabrikam) || fail "register-ca after an interrupted upload failed: $out"
grep -q "proving it now" <<<"$out" || fail "register-ca did not resume: $out"
[ "$(api_call fabrikam GET /certificates/Company-X | field status)" = Verified ] ||
  fail "the resumed registration did not end Verified"
# Each change was written with its event.
events=$("$bin/hub" --state "$work/hub" events --name fabrikam)
grep -q "ca_uploaded" <<<"$events" && grep -q "ca_verified" <<<"$events" ||
  fail "the resumed registration's events are missing: $events"
echo "PASS: CA registration, stolen CA, replay, private key, SIGKILL restart, code expiry, rerun"
