// A long-lived device on the unmodified Azure IoT Node.js device SDK
// (azure-iot-device with its MQTT transport), written the way the SDK's
// own samples are: X.509 authentication with a certificate chain, periodic
// telemetry, cloud-to-device messages completed, the twin read and
// reported, and direct methods answered. Everything on the wire is the
// SDK's; this file only wires its API together.
//
// usage: node device.js --host H --port P --device-id ID --cert CHAIN.pem
//          --key KEY.pem --hub-ca CA.pem [--keepalive S] [--telemetry-seconds S]
//          [--method NAME]...
'use strict';
const fs = require('fs');
const { parseArgs } = require('util');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const { values: args } = parseArgs({
  options: {
    host: { type: 'string' }, port: { type: 'string' }, 'device-id': { type: 'string' },
    cert: { type: 'string' }, key: { type: 'string' }, 'hub-ca': { type: 'string' },
    keepalive: { type: 'string', default: '60' },
    'telemetry-seconds': { type: 'string', default: '5' },
    method: { type: 'string', multiple: true, default: ['reboot'] },
  },
});
for (const required of ['host', 'port', 'device-id', 'cert', 'key', 'hub-ca'])
  if (!args[required]) {
    console.error(`device.js: --${required} is required`);
    process.exit(64);
  }

const deviceId = args['device-id'];
const log = (line) => console.log(`${new Date().toISOString()} ${line}`);

const client = Client.fromConnectionString(
  `HostName=${args.host}:${args.port};DeviceId=${deviceId};x509=true`, Mqtt);
client.setOptions({
  cert: fs.readFileSync(args.cert, 'utf8'), // the device certificate and its intermediates
  key: fs.readFileSync(args.key, 'utf8'),
  ca: fs.readFileSync(args['hub-ca'], 'utf8'),
  keepalive: Number(args.keepalive),        // the SDK's default is 180 s
});

client.on('error', (err) => log(`error ${err.constructor.name}: ${err.message}`));

// Listeners go on after open(), as in the SDK's samples: on a closed
// client, each 'message' or method listener starts a connection of its own.
// The SDK has no catch-all for direct methods: a call to a method nobody
// registered is dropped unanswered, so the device registers each it serves.
function listen() {
  client.on('message', (message) => {
    log(`cloud-to-device: ${message.getData().toString()}`);
    client.complete(message, (err) => err && log(`complete failed: ${err.message}`));
  });
  for (const name of args.method)
    client.onDeviceMethod(name, (request, response) => {
      log(`direct method ${name}`);
      response.send(200, { method: name, payload: request.payload },
                    (err) => err && log(`method answer failed: ${err.message}`));
    });
}

async function reportTwin() {
  const twin = await client.getTwin();
  const report = (desired) => {
    const applied = Object.fromEntries(
      Object.entries(desired).filter(([name]) => !name.startsWith('$')));
    twin.properties.reported.update({ applied, firmware: 'node-sdk-example' },
      (err) => err && log(`reported update failed: ${err.message}`));
  };
  report(twin.properties.desired);
  twin.on('properties.desired', report);
}

let sequence = 0;
async function sendTelemetry() {
  sequence += 1;
  try {
    await client.sendEvent(new Message(JSON.stringify({ deviceId, sequence })));
  } catch (err) {
    log(`telemetry ${sequence} failed: ${err.message}`);
  }
}

// The SDK's own retry policy reconnects a client with methods or the twin
// enabled; 'disconnect' means that policy gave up, so the device reopens
// after a delay that doubles up to a minute, as the SDK's samples advise.
let reopenDelay = 1000;
let listening = false;
client.on('disconnect', () => {
  log(`disconnected; reopening in ${reopenDelay} ms`);
  setTimeout(open, reopenDelay);
  reopenDelay = Math.min(reopenDelay * 2, 60000);
});

async function open() {
  try {
    await client.open();
  } catch (err) {
    log(`open failed, ${err.constructor.name}: ${err.message}`);
    process.exit(2); // the SDK already retried what it deems transient
  }
  log('connected');
  reopenDelay = 1000;
  if (!listening) {
    listening = true;
    listen();
  }
  await reportTwin().catch((err) => log(`twin failed: ${err.message}`));
}

open().then(() => {
  sendTelemetry();
  setInterval(sendTelemetry, Number(args['telemetry-seconds']) * 1000);
});
