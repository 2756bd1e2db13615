#!/usr/bin/env python3
"""telemetry_client.py HOST PORT CA CERT KEY DEVICE ACKED_FILE

A raw MQTT 3.1.1 client over mutual TLS that publishes QoS 1 telemetry
("m-1", "m-2", ...) with up to 32 messages in flight, and appends each
payload to ACKED_FILE (flushed) the moment its PUBACK arrives. It runs until
the server goes away, so that a test can kill the server mid-stream and then
check that every acknowledged message was kept."""
import socket
import ssl
import sys

from mqtt_wire import packet, read_packet, string


def main():
    host, port, ca, cert, key, device, acked_path = sys.argv[1:8]
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    raw = socket.create_connection((host, int(port)), timeout=10)
    tls = context.wrap_socket(raw, server_hostname="localhost")
    stream = tls.makefile("rb")
    username = f"localhost:{port}/{device}/?api-version=2021-04-12"
    connect = string("MQTT") + bytes([4, 0x82]) + (60).to_bytes(2, "big")
    tls.sendall(packet(0x10, connect + string(device) + string(username)))
    kind, body = read_packet(stream)
    if kind >> 4 != 2 or body[1] != 0:
        sys.exit(f"CONNACK refused: {body!r}")
    topic = f"devices/{device}/messages/events/"
    in_flight, sent = {}, 0
    with open(acked_path, "a") as acked:
        try:
            while True:
                while len(in_flight) < 32:
                    sent += 1
                    packet_id = sent % 65535 + 1
                    payload = f"m-{sent}"
                    in_flight[packet_id] = payload
                    tls.sendall(packet(0x32, string(topic) + packet_id.to_bytes(2, "big") +
                                       payload.encode()))
                kind, body = read_packet(stream)
                if kind >> 4 == 4:
                    payload = in_flight.pop(int.from_bytes(body[:2], "big"), None)
                    if payload:
                        acked.write(payload + "\n")
                        acked.flush()
        except (EOFError, OSError, IndexError):
            pass  # the server went away: what was acknowledged is on file


main()
