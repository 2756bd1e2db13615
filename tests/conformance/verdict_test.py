#!/usr/bin/env python3
"""One expected verdict of the conformance suite: run it against a profile,
its command optionally extended with switches (a row of the matrix of
`device run`'s misbehaviours), and require that exactly the expected checks
fail and every other check passes, or is skipped because the profile does
not claim its capability.

usage: verdict_test.py BIN PROFILE [SWITCH...] -- [EXPECTED_FAILING_CHECK...]
"""
import json
import os
import subprocess
import sys
import tempfile

bin_dir, profile_file = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
split = rest.index("--")
switches, expected = rest[:split], set(rest[split + 1:])

with open(profile_file) as f:
    profile = json.load(f)
if switches:
    profile["name"] += " with " + " ".join(switches)
    profile["command"] += " " + " ".join(switches)

with tempfile.TemporaryDirectory(prefix="chainlab-conformance-test-") as work:
    # Unchanged, the profile runs from its own file: relative paths in its
    # command resolve against the profile's directory.
    path = profile_file
    if switches:
        path = os.path.join(work, "profile.json")
        with open(path, "w") as f:
            json.dump(profile, f)
    report, junit = os.path.join(work, "report.json"), os.path.join(work, "junit.xml")
    run = subprocess.run([os.path.join(bin_dir, "scenario"), "conformance", "--device", path,
                          "--json", report, "--junit", junit],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
    print(run.stdout[-6000:])
    if not os.path.exists(report):
        sys.exit("FAIL: the suite exited %d without writing its report" % run.returncode)
    with open(report) as f:
        result = json.load(f)
    with open(junit) as f:
        cases = f.read().count("<testcase ")

verdicts = {check["id"]: check["verdict"] for check in result["checks"]}
failing = {id for id, verdict in verdicts.items() if verdict == "fail"}
problems = []
if failing != expected:
    problems.append("expected exactly %s to fail, got %s" % (sorted(expected), sorted(failing)))
unclaimed = {check["id"] for check in result["checks"] if check["verdict"] == "skipped"
             and check["capability"] and check["capability"] not in profile["capabilities"]}
not_passing = [id for id, v in verdicts.items()
               if v != "pass" and id not in expected and id not in unclaimed]
if not_passing:
    problems.append("expected these to pass: %s" % not_passing)
if cases != len(verdicts) or len(verdicts) < 18:
    problems.append("JUnit has %d test cases for %d checks" % (cases, len(verdicts)))
if (run.returncode == 0) != (not expected):
    problems.append("exit status %d with %d failing checks" % (run.returncode, len(failing)))
if result["passed"] != (not expected):
    problems.append("report says passed=%s" % result["passed"])
for problem in problems:
    print("FAIL:", problem)
sys.exit(1 if problems else 0)
