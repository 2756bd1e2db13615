#!/usr/bin/env python3
"""unread_flood_client.py HOST PORT CA CERT KEY DEVICE COUNT

A raw MQTT 3.1.1 device over mutual TLS that sends COUNT QoS 1 messages
without reading anything back (its receive buffer made tiny), until the
hub stops taking more: back-pressure. It then reads the PUBACKs, sending
the rest as the hub takes them, and prints a JSON line:
{"paused_after": messages sent before the hub stopped reading (or null),
 "acked": PUBACKs received, "closed": whether the hub closed the connection}.
TLS runs over memory BIOs, so that one thread controls every byte."""
import json
import select
import socket
import ssl
import sys
import time

from mqtt_wire import packet, string

STALL = 1.5  # seconds without progress that count as the hub having paused


class Device:
    def __init__(self, host, port, ca, cert, key):
        context = ssl.create_default_context(cafile=ca)
        context.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        # Its own sending side small too, so that the hub's pause comes
        # after thousands of messages, not after megabytes of them.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        self.sock.connect((host, port))
        self.sock.setblocking(False)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.pending, self.plain, self.closed = b"", b"", False
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self.pump(1.0)
        self.flush()

    def flush(self):
        """Writes what TLS produced, as far as the socket takes it."""
        self.pending += self.outgoing.read()
        while self.pending:
            try:
                sent = self.sock.send(self.pending)
            except BlockingIOError:
                return False
            self.pending = self.pending[sent:]
        return True

    def pump(self, timeout):
        """Reads what arrived (waiting up to |timeout|) into self.plain."""
        if select.select([self.sock], [], [], timeout)[0]:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            if not data:
                self.closed = True
                return
            self.incoming.write(data)
        while True:
            try:
                chunk = self.tls.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                return
            if not chunk:
                return
            self.plain += chunk

    def packets(self):
        """Complete MQTT packets received so far: (type, body)."""
        while len(self.plain) >= 2:
            length, shift, at = 0, 0, 1
            while True:
                if at >= len(self.plain):
                    return
                byte = self.plain[at]
                length |= (byte & 0x7F) << shift
                shift, at = shift + 7, at + 1
                if not byte & 0x80:
                    break
            if len(self.plain) < at + length:
                return
            yield self.plain[0] >> 4, self.plain[at:at + length]
            self.plain = self.plain[at + length:]


def main():
    host, port, ca, cert, key, device_id, count = sys.argv[1:8]
    count = int(count)
    device = Device(host, int(port), ca, cert, key)
    username = f"localhost:{port}/{device_id}/?api-version=2021-04-12"
    connect = string("MQTT") + bytes([4, 0x82]) + (60).to_bytes(2, "big")
    device.tls.write(packet(0x10, connect + string(device_id) + string(username)))
    device.flush()
    while not list(device.packets()):  # CONNACK
        device.pump(1.0)
    topic = string(f"devices/{device_id}/messages/events/")
    sent, acked, paused_after, reading = 0, 0, None, False
    last_progress = time.monotonic()
    # A bound, not a measure: under ASan on a busy 2-core machine the whole
    # flood has taken over 100 s (ctest allows the test 300).
    deadline = time.monotonic() + 240

    def send_next():
        nonlocal sent, last_progress
        pid = sent % 65535 + 1
        device.tls.write(packet(0x32, topic + pid.to_bytes(2, "big") + f"m-{sent + 1}".encode()))
        sent += 1
        last_progress = time.monotonic()

    while acked < count and not device.closed and time.monotonic() < deadline:
        writable = device.flush()
        if not reading:  # send, never read, until the hub stops taking more
            if writable and sent < count:
                send_next()
            elif writable:
                reading = True  # everything went out: the hub never paused
            elif time.monotonic() - last_progress >= STALL:
                paused_after, reading = sent, True
            else:
                select.select([], [device.sock], [], 0.05)
            continue
        if writable and sent < count:
            send_next()
        device.pump(0 if sent < count else 0.05)
        acked += sum(1 for kind, _ in device.packets() if kind == 4)
    print(json.dumps({"paused_after": paused_after, "sent": sent, "acked": acked,
                      "closed": device.closed}), flush=True)


if __name__ == "__main__":
    main()
