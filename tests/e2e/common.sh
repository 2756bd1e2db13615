# common.sh: sourced by the end-to-end tests. Gives a private work
# directory, stops every actor a test started (also on failure), and small
# assertions that name what went wrong.
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/chainlab-e2e-XXXXXX")
pids=()
cleanup() {
  # serve runs inside $(...), so its servers' PIDs come back through a file.
  [ -f "$work/.server-pids" ] && mapfile -t -O "${#pids[@]}" pids <"$work/.server-pids"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP_E2E:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# serve ROLE DIR: start an EST server in the background, print its port.
serve() {
  rm -f "$2/est.port" # a restart must not read the last run's port
  "$bin/$1" --state "$2" serve >"$2.log" 2>&1 &
  echo $! >>"$work/.server-pids"
  for _ in $(seq 100); do [ -s "$2/est.port" ] && break; sleep 0.1; done
  [ -s "$2/est.port" ] || fail "$1 did not start its EST server: $(cat "$2.log")"
  cat "$2/est.port"
}

# expect_refusal REASON COMMAND...: the command must fail naming REASON.
expect_refusal() {
  local reason=$1; shift
  local rc=0 err
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "expected refusal ($reason) but it succeeded: $*"
  grep -q "error ($reason)" <<<"$err" || fail "expected ($reason), got: $err"
  echo "refused as expected ($reason): ${err##*): }"
}

# start_hub_service NAME...: initialise the hub service with these named hubs and
# serve it; sets hub_pid and hub_fp. Serving again reuses the state.
# HUB_LAUNCH, if set, prefixes the serving command (e.g. a prlimit);
# HUB_SERVE_ARGS, if set, are more options for `hub serve`.
start_hub_service() {
  if [ ! -d "$work/hub" ]; then
    "$bin/hub" --state "$work/hub" init >/dev/null
    for name in "$@"; do "$bin/hub" --state "$work/hub" create --name "$name" >/dev/null 2>&1; done
  fi
  rm -f "$work/hub/api.port"
  # shellcheck disable=SC2086 # HUB_SERVE_ARGS is a list of words
  ${HUB_LAUNCH:-} "$bin/hub" --state "$work/hub" serve ${HUB_SERVE_ARGS:-} >>"$work/hub.log" 2>&1 &
  hub_pid=$!
  pids+=($hub_pid)
  for _ in $(seq 100); do [ -s "$work/hub/api.port" ] && break; sleep 0.1; done
  [ -s "$work/hub/api.port" ] || fail "the hub did not start: $(tail -5 "$work/hub.log")"
  hub_fp=$("$bin/hub" --state "$work/hub" fingerprint)
}

# company_registered_at HUB: Company-X's root CA in its own token, serving
# EST, registered at HUB with proof of possession; sets company_port.
company_registered_at() {
  "$bin/company" --state "$work/company" init --name Company-X >/dev/null
  company_port=$(serve company "$work/company")
  "$bin/company" --state "$work/company" register-ca --hub "$1" \
    --hub-port "$(cat "$work/hub/api.port")" --hub-fingerprint "$hub_fp" \
    --token-file "$work/hub/hubs/$1.token" >/dev/null
}

# device_enrolled_at_company ID: a device with a software key (its PEM is at
# $work/ID/keys/identity-key.key.pem, for third-party clients), enrolled at
# Company-X over EST with a one-time secret.
device_enrolled_at_company() {
  local secret
  secret=$("$bin/company" --state "$work/company" issue-secret --subject "CN=$1" 2>/dev/null)
  "$bin/device" --state "$work/$1" init --id "$1" --backend file >/dev/null
  "$bin/device" --state "$work/$1" enroll --ca-port "$company_port" \
    --ca-fingerprint "$("$bin/company" --state "$work/company" fingerprint)" --secret "$secret" >/dev/null
}
