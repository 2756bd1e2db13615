#!/usr/bin/env bash
# The whole seed chain with real processes: Company-X -> Factory-Y ->
# Technician-Z -> widget-001..003, then `openssl verify` on every device.
bin=$1 scripts=$2
source "$(dirname "$0")/common.sh"

output=$("$scripts/supply-chain.sh" "$bin" "$work/chain" 2>&1) || {
  echo "$output"; echo "FAIL: supply-chain.sh exited non-zero"; exit 1; }
show_and_fail() { echo "$output" | tail -40; fail "$@"; }

ok_count=$(grep -c 'certificate.pem: OK$' <<<"$output" || true)
[ "$ok_count" = 3 ] || show_and_fail "expected 3 devices verified by openssl, got $ok_count"
for who in Company-X Factory-Y Technician-Z; do
  grep -q "generated a ec-p256 key inside PKCS#11 token '$who'" <<<"$output" ||
    show_and_fail "$who's key was not made in its own token"
done
# Each device's chain is Technician-Z -> Factory-Y -> Company-X.
for widget in widget-001 widget-002 widget-003; do
  subjects=$(openssl crl2pkcs7 -nocrl -certfile "$work/chain/$widget/fullchain.pem" |
    openssl pkcs7 -print_certs -noout | grep '^subject' | tr '\n' ' ')
  [[ "$subjects" == *"CN = $widget"*"CN = Technician-Z"*"CN = Factory-Y"* ]] ||
    show_and_fail "$widget chain is $subjects"
  grep -q 'pkcs11:token=' "$work/chain/$widget/actor.json" || show_and_fail "$widget key is not in a token"
done
# Every CA recorded what it issued.
[ "$("$bin/technician" --state "$work/chain/technician-z" list | grep -c 'CN=widget-00')" = 3 ] ||
  show_and_fail "Technician-Z's issuance log lacks the devices"
# No server outlives the run.
if pgrep -f "$work" >/dev/null; then show_and_fail "an actor process outlived the run"; fi
echo "PASS: supply chain end to end"
