#!/usr/bin/env bash
# The seed's other paths, with real processes: Company-X buys its CA from a
# simulated public root (a chainlab CA started in that role), Factory-Y
# signs a device directly (alternate chain), keys are P-384 or software
# files, and signatures follow the issuer's key (SHA-384 under P-384).
bin=$1
source "$(dirname "$0")/common.sh"
verify() { # verify DIR: openssl's own verdict on a stored identity
  openssl verify -x509_strict -purpose sslclient -CAfile "$1/root.pem" \
    -untrusted "$1/intermediates.pem" "$1/certificate.pem"
}

# A public root CA, then Company-X buying its CA certificate there.
"$bin/company" --state "$work/public-root" init --name Public-Root-CA \
  --subject "CN=Public Root CA,O=Simulated Trust Services" --key-type ec-p384 --path-len 3 >/dev/null
root_port=$(serve company "$work/public-root")
root_fp=$("$bin/company" --state "$work/public-root" fingerprint)
secret=$("$bin/company" --state "$work/public-root" issue-secret --subject CN=Company-X \
  --profile subordinate-ca --path-len 2 2>/dev/null)
"$bin/company" --state "$work/company" init --name Company-X --parent-name Public-Root-CA \
  --parent-port "$root_port" --parent-fingerprint "$root_fp" --secret "$secret" >/dev/null
company_cert="$work/company/certificate.pem"
openssl x509 -in "$company_cert" -noout -issuer | grep -q 'CN = Public Root CA' ||
  fail "Company-X's CA was not issued by the public root"
openssl x509 -in "$company_cert" -noout -text | grep -q 'ecdsa-with-SHA384' ||
  fail "a P-384 issuer must sign with SHA-384"
openssl x509 -in "$company_cert" -noout -text | grep -q 'CA:TRUE, pathlen:2' ||
  fail "Company-X's bought CA lacks pathLen 2"

# Company-X signs Factory-Y (P-384 key in its token); Factory-Y then signs a
# device directly, a device whose key is a software file.
company_port=$(serve company "$work/company")
company_fp=$("$bin/company" --state "$work/company" fingerprint)
secret=$("$bin/company" --state "$work/company" issue-secret --subject CN=Factory-Y \
  --profile subordinate-ca --path-len 1 2>/dev/null)
"$bin/factory" --state "$work/factory" init --name Factory-Y --key-type ec-p384 \
  --parent-port "$company_port" --parent-fingerprint "$company_fp" --secret "$secret" >/dev/null
factory_port=$(serve factory "$work/factory")
factory_fp=$("$bin/factory" --state "$work/factory" fingerprint)
secret=$("$bin/factory" --state "$work/factory" issue-secret --subject CN=widget-direct 2>/dev/null)
"$bin/device" --state "$work/widget" init --id widget-direct --backend file --key-type rsa-2048 >/dev/null
"$bin/device" --state "$work/widget" enroll --ca-port "$factory_port" \
  --ca-fingerprint "$factory_fp" --secret "$secret" >/dev/null
grep -q '"key_uri": "file://' "$work/widget/actor.json" || fail "the software key is not a file: URI"
openssl x509 -in "$work/widget/certificate.pem" -noout -issuer | grep -q 'CN = Factory-Y' ||
  fail "the device was not signed directly by Factory-Y"
openssl x509 -in "$work/widget/certificate.pem" -noout -text | grep -q 'ecdsa-with-SHA384' ||
  fail "Factory-Y's P-384 key must sign with SHA-384"
verify "$work/widget" | grep -q ': OK$' || fail "openssl does not verify the alternate chain"
# The installed chain holds Factory-Y and Company-X; the root is the public one.
[ "$(grep -c 'BEGIN CERTIFICATE' "$work/widget/intermediates.pem")" = 2 ] ||
  fail "the device's intermediates should be Factory-Y and Company-X"
"$bin/device" --state "$work/widget" show | grep -q 'CN=Public Root CA' ||
  fail "device show does not name the public root"

# Depth is configurable: a pathLen-0 CA under Factory-Y, and nothing deeper.
secret=$("$bin/factory" --state "$work/factory" issue-secret --subject CN=Technician-Z \
  --profile subordinate-ca --path-len 0 2>/dev/null)
"$bin/technician" --state "$work/technician" init --name Technician-Z \
  --parent-port "$factory_port" --parent-fingerprint "$factory_fp" --secret "$secret" >/dev/null
tech_port=$(serve technician "$work/technician")
tech_fp=$("$bin/technician" --state "$work/technician" fingerprint)
secret=$("$bin/technician" --state "$work/technician" issue-secret --subject CN=Sub-Installer \
  --profile subordinate-ca 2>/dev/null)
rc=0
err=$("$bin/technician" --state "$work/sub" init --name Sub-Installer --parent-port "$tech_port" \
  --parent-fingerprint "$tech_fp" --secret "$secret" 2>&1 >/dev/null) || rc=$?
[ "$rc" -ne 0 ] && grep -q 'error (path_len_exceeded)' <<<"$err" ||
  fail "a CA under a pathLen-0 CA must be refused (path_len_exceeded); got: $err"
# The refused init kept its key; a retry with a new secret from a parent that
# may sign CAs resumes with that key instead of starting over.
secret=$("$bin/factory" --state "$work/factory" issue-secret --subject CN=Sub-Installer \
  --profile subordinate-ca --path-len 0 2>/dev/null)
out=$("$bin/technician" --state "$work/sub" init --name Sub-Installer --parent-port "$factory_port" \
  --parent-fingerprint "$factory_fp" --secret "$secret")
grep -q 'resumes an unfinished init' <<<"$out" || fail "init did not resume: $out"
[ "$(grep -c 'BEGIN CERTIFICATE' "$work/sub/certificate.pem")" = 1 ] || fail "resumed init stored no certificate"
echo "PASS: bought root, alternate chain, software and P-384 keys, pathLen depth"
