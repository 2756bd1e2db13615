#!/usr/bin/env python3
"""A small third-party device for chainlab's conformance suite, on Eclipse
Paho (Debian's python3-paho-mqtt): mutual TLS with an X.509 identity, then
Azure IoT Hub's MQTT dialect: telemetry, cloud-to-device messages, the twin
and direct methods, reconnecting with Paho's exponential backoff.

usage: device.py --host H --port P --device-id ID --cert CHAIN.pem --key KEY.pem --hub-ca CA.pem
"""
import argparse
import json
import ssl
import threading

import paho.mqtt.client as mqtt

API_VERSION = "2021-04-12"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option in ("--host", "--device-id", "--cert", "--key", "--hub-ca"):
        parser.add_argument(option, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--telemetry-seconds", type=float, default=5.0)
    args = parser.parse_args()
    device = args.device_id

    client = mqtt.Client(client_id=device, protocol=mqtt.MQTTv311, clean_session=True)
    client.username_pw_set(f"{args.host}/{device}/?api-version={API_VERSION}")
    # PROTOCOL_TLS_CLIENT verifies the hub and its host name, but would still
    # offer TLS 1.0 and 1.1 (the suite's tls.version check caught that).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=args.hub_ca)
    context.load_cert_chain(certfile=args.cert, keyfile=args.key)
    client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    rid = iter(range(1, 1 << 30))

    def on_connect(client, _userdata, _flags, rc):
        if rc != 0:
            print(f"refused with CONNACK {rc}", flush=True)
            return
        client.subscribe([(f"devices/{device}/messages/devicebound/#", 1),
                          ("$iothub/methods/POST/#", 0), ("$iothub/twin/res/#", 0),
                          ("$iothub/twin/PATCH/properties/desired/#", 0)])
        client.publish(f"$iothub/twin/GET/?$rid={next(rid)}", "")

    def report(desired):
        applied = {k: v for k, v in desired.items() if not k.startswith("$")}
        client.publish(f"$iothub/twin/PATCH/properties/reported/?$rid={next(rid)}",
                       json.dumps({"applied": applied, "firmware": "paho-example"}))

    def on_message(client, _userdata, message):
        topic = message.topic
        if topic.startswith("$iothub/methods/POST/"):
            name, query = topic[len("$iothub/methods/POST/"):].split("/?", 1)
            request_id = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("$rid", "")
            client.publish(f"$iothub/methods/res/200/?$rid={request_id}", json.dumps({"method": name}))
        elif topic.startswith("$iothub/twin/res/200/"):
            report(json.loads(message.payload or b"{}").get("desired", {}))
        elif topic.startswith("$iothub/twin/PATCH/properties/desired/"):
            report(json.loads(message.payload or b"{}"))
        elif topic.startswith(f"devices/{device}/messages/devicebound/"):
            print("cloud-to-device:", message.payload.decode(errors="replace"), flush=True)

    client.on_connect = on_connect
    client.on_message = on_message
    stop = threading.Event()

    def telemetry():
        sequence = 0
        while not stop.wait(args.telemetry_seconds if sequence else 0.5):
            if client.is_connected():
                sequence += 1
                client.publish(f"devices/{device}/messages/events/",
                               json.dumps({"deviceId": device, "sequence": sequence}), qos=1)

    threading.Thread(target=telemetry, daemon=True).start()
    client.connect_async(args.host, args.port, keepalive=5)
    client.loop_forever(retry_first_connection=True)


if __name__ == "__main__":
    main()
