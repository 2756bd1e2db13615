#!/usr/bin/env python3
"""key_share_client.py PORT CA CERT KEY DEVICE GROUP TLS_VERSION

Connects to the hub as DEVICE offering only GROUP for the key exchange
(prime256v1, secp384r1, X25519, X448, ...) and only TLS_VERSION (1.2 or
1.3), sends CONNECT and exits 0 when CONNACK accepts it. The hub must
handle every key share and version it offers, whatever parses certificates
in its process."""
import socket
import ssl
import sys

from mqtt_wire import packet, read_packet, string


def main():
    port, ca, cert, key, device, group, version = sys.argv[1:8]
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    context.set_ecdh_curve(group)
    pinned = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    context.minimum_version = context.maximum_version = pinned
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            username = f"localhost:{port}/{device}/?api-version=2021-04-12"
            connect = string("MQTT") + bytes([4, 0x82]) + (60).to_bytes(2, "big")
            tls.sendall(packet(0x10, connect + string(device) + string(username)))
            kind, body = read_packet(tls.makefile("rb"))
            if kind >> 4 != 2 or len(body) < 2 or body[1] != 0:
                sys.exit(f"{group} over TLS {version}: CONNACK refused: {body!r}")
            print(f"{group} over TLS {version} ({tls.version()}): accepted")


if __name__ == "__main__":
    main()
