// A device built only on the Azure IoT Node.js SDK: X.509 authentication
// with a chainlab-issued certificate chain. Prints one line per step, so
// the test can follow it: OPEN, SENT, C2D <payload>, LISTENING, METHOD ...,
// or ERROR <name>: <why>.
'use strict';
const fs = require('fs');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const [port, deviceId, certFile, keyFile, caFile, mode] = process.argv.slice(2);
const client = Client.fromConnectionString(
  `HostName=localhost:${port};DeviceId=${deviceId};x509=true`, Mqtt);
client.setOptions({
  cert: fs.readFileSync(certFile, 'utf8'), // the device certificate and its chain
  key: fs.readFileSync(keyFile, 'utf8'),
  ca: fs.readFileSync(caFile, 'utf8'),     // the hub's service CA
});

function fail(err) {
  console.log(`ERROR ${err.constructor.name}: ${err.message}`);
  process.exit(2);
}

// The SDK reports a refused connection both through open() and as an
// 'error' event; either way it is one ERROR line.
client.on('error', fail);

async function main() {
  const received = new Promise((resolve) => client.on('message', (msg) => {
    client.complete(msg, () => resolve(msg.getData().toString()));
  }));
  await client.open();
  console.log('OPEN');
  await client.sendEvent(new Message(JSON.stringify({ deviceId, temperature: 22.5 })));
  console.log('SENT');
  if (mode === 'methods') {
    const called = new Promise((resolve) => client.onDeviceMethod('reboot', (request, response) => {
      response.send(200, { rebooted: true, delay: request.payload.delay }, () => resolve());
    }));
    console.log('LISTENING');
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('no direct method call within 15 s')), 15000));
    await Promise.race([called, timeout]);
    console.log('METHOD reboot answered');
  }
  if (mode === 'receive') {
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('no cloud-to-device message within 15 s')), 15000));
    console.log(`C2D ${await Promise.race([received, timeout])}`);
  }
  await client.close();
  process.exit(0);
}

main().catch(fail);
