#!/usr/bin/env bash
# The scenario runner itself: a wrong expectation fails with a clear
# message; an invalid file is refused with its JSON pointer; no process
# outlives a run, including one that timed out or was interrupted.
bin=$1 catalog=$2 fixtures=$3
source "$(dirname "$0")/../e2e/common.sh"
scenario="$bin/scenario"
# gone PATTERN: every process matching PATTERN has ended, waiting up to 5 s
# (actors killed with their process group end just after the runner).
gone() { for _ in $(seq 100); do pgrep -f "$1" >/dev/null || return 0; sleep 0.05; done; return 1; }

# Every catalog file is valid.
"$scenario" validate "$catalog"/*.json >/dev/null || fail "the catalog does not validate"

# An invalid file names the file, the pointer and what was expected.
rc=0; err=$("$scenario" validate "$fixtures/invalid-reason.json" 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "an invalid file should exit 2, got $rc"
grep -q 'invalid-reason.json: /steps/0/expect/reason: expected a reason code' <<<"$err" ||
  fail "no JSON pointer in: $err"
printf '{"name": "broken", ' >"$work/broken.json"
err=$("$scenario" validate "$work/broken.json" 2>&1) && fail "broken JSON was accepted"
grep -q 'broken.json: not JSON' <<<"$err" || fail "unclear syntax error: $err"
# A number too large for a double (found by fuzzing) is an invalid file too.
printf '{"name": "big", "timeout_seconds": 1e999}' >"$work/huge-number.json"
rc=0; err=$("$scenario" validate "$work/huge-number.json" 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "1e999 should be config_invalid (exit 2), got $rc: $err"
grep -q 'config_invalid.*huge-number.json: not usable JSON' <<<"$err" || fail "unclear: $err"
printf '{"name":"x","description":"d","actors":[{"id":"w","role":"device"}],"steps":[]}' >"$work/no-parent.json"
err=$("$scenario" validate "$work/no-parent.json" 2>&1) && fail "a device without parent was accepted"
grep -q '/actors/0/parent: expected a value' <<<"$err" || fail "unclear: $err"

# A wrong expectation fails the run, says why, and is a JUnit failure.
rc=0; out=$("$scenario" run "$fixtures/wrong-expectation.json" --junit "$work/junit.xml" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a failing scenario should exit 1, got $rc"
grep -q 'FAILED: expected success, but it was refused' <<<"$out" || fail "no clear failure message: $out"
grep -q 'last output of widget-001' <<<"$out" || fail "the failing actor's output is not shown"
grep -q '<failure message="expected success' "$work/junit.xml" || fail "JUnit lacks the failure"

# --json alone: the report on stdout, the transcript on stderr.
report=$("$scenario" run "$catalog/attack-impostor-hub.json" --json 2>/dev/null) ||
  fail "attack-impostor-hub failed"
python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[0]["passed"] and r[0]["steps"], r' <<<"$report" ||
  fail "--json did not print a passing JSON report: $report"

# The conformance suite as a scenario step: each step names the checks it
# expects to fail, and its message says which failed.
# A scenario file runs no device command unless the operator allows it.
rc=0; out=$("$scenario" run "$fixtures/conformance-step.json" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a conformance step ran without --allow-device-commands ($rc)"
grep -q 'conformance-step.json: /steps/0/args/profile: this step would run the device command of' <<<"$out" ||
  fail "no clear refusal of the device command: $(tail -5 <<<"$out")"
rc=0; out=$("$scenario" run --allow-device-commands "$fixtures/conformance-step.json" 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "the conformance steps failed ($rc): $(tail -20 <<<"$out")"
grep -q 'conformance of mosquitto_pub .*: failing none, as expected' <<<"$out" ||
  fail "no verdict for mosquitto_pub: $(tail -20 <<<"$out")"
grep -q 'omit-intermediates: failing tls.full-chain, as expected' <<<"$out" ||
  fail "no verdict for --omit-intermediates: $(tail -20 <<<"$out")"

# A step past its timeout fails as such, and nothing survives the run.
rc=0; out=$("$scenario" run "$fixtures/slow-step.json" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a timed-out scenario should exit 1, got $rc"
grep -q 'did not finish within 2 s' <<<"$out" || fail "no timeout message: $out"
gone chainlab-scenario-slow-step || fail "a process outlived the timed-out run"

# Ctrl-C: every actor stops, the working directory goes, exit 130.
"$scenario" run "$catalog/seed-story.json" >"$work/interrupted.out" 2>&1 &
runner=$!
for _ in $(seq 100); do grep -q 'set-up: technician-z' "$work/interrupted.out" && break; sleep 0.05; done
kill -INT "$runner"
rc=0; wait "$runner" || rc=$?
[ "$rc" = 130 ] || fail "an interrupted run should exit 130, got $rc: $(tail -5 "$work/interrupted.out")"
gone chainlab-scenario-seed-story || fail "a process outlived the interrupted run"
dir=$(grep -o '/[^ )]*chainlab-scenario-seed-story-[A-Za-z0-9]*' "$work/interrupted.out" | head -1)
[ -n "$dir" ] && [ ! -d "$dir" ] || fail "the interrupted run left its working directory $dir"
echo "PASS: scenario runner"
