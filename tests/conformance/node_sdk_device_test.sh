#!/usr/bin/env bash
# The unmodified Azure IoT Node.js device SDK under the conformance suite,
# from the example profile of the README, and its expected honest verdict:
# every claimed check passes except resilience.reconnect (the SDK
# reconnects at once after every drop; the README says why).
set -euo pipefail
bin=$1 example=$2 work=$3
mkdir -p "$work"
cp "$example/package.json" "$example/device.js" "$example/profile.json" "$work/"
if [ ! -d "$work/node_modules/azure-iot-device-mqtt" ]; then
  (cd "$work" && npm install --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "FAIL: npm could not install the Azure IoT device SDK"; exit 1; }
fi
exec "$(dirname "$0")/verdict_test.py" "$bin" "$work/profile.json" -- resilience.reconnect
