#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Seeds are small valid (and a few deliberately broken) inputs, so that the
fuzzer starts past the first checks. Certificates are made with the openssl
command line; their dates do not matter to a fuzzer. Regression seeds (the
inputs that once crashed chainlab) are written as they were found.

Run it again only to refresh the seeds: python3 fuzz/make_seeds.py
"""
import base64
import json
import os
import pathlib
import struct
import subprocess
import tempfile

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(tmp):
    """A root, a device key and CSR, a device certificate, a PKCS#12."""
    t = lambda name: str(pathlib.Path(tmp) / name)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", t("ca.key"), cwd=tmp)
    openssl("req", "-new", "-x509", "-key", t("ca.key"), "-subj", "/CN=Company-X/O=Company-X",
            "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE,pathlen:2",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", t("ca.pem"), cwd=tmp)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", t("dev.key"), cwd=tmp)
    openssl("req", "-new", "-key", t("dev.key"), "-subj", "/CN=widget-001", "-out", t("dev.csr"),
            cwd=tmp)
    openssl("req", "-new", "-key", t("dev.key"), "-subj", "/CN=Factory-Y/O=Company-X",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:1", "-out", t("sub.csr"), cwd=tmp)
    openssl("x509", "-req", "-in", t("dev.csr"), "-CA", t("ca.pem"), "-CAkey", t("ca.key"),
            "-set_serial", "7", "-days", "365", "-out", t("dev.pem"), cwd=tmp)
    openssl("req", "-new", "-key", t("dev.key"), "-subj", "/CN=3A7F09C2E1B84D55", "-out",
            t("proof.csr"), cwd=tmp)
    openssl("x509", "-req", "-in", t("proof.csr"), "-CA", t("ca.pem"), "-CAkey", t("ca.key"),
            "-set_serial", "8", "-days", "1", "-out", t("proof.pem"), cwd=tmp)
    openssl("pkcs12", "-export", "-in", t("dev.pem"), "-inkey", t("dev.key"), "-passout",
            "pass:x", "-out", t("dev.p12"), cwd=tmp)
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", t("dev.key"), "-outform", "DER", "-out",
            t("dev.p8.der"), cwd=tmp)
    openssl("crl2pkcs7", "-nocrl", "-certfile", t("dev.pem"), "-certfile", t("ca.pem"),
            "-outform", "DER", "-out", t("chain.p7"), cwd=tmp)
    for name in ("ca", "dev"):
        openssl("x509", "-in", t(name + ".pem"), "-outform", "DER", "-out", t(name + ".der"),
                cwd=tmp)
    for name in ("dev", "sub"):
        openssl("req", "-in", t(name + ".csr"), "-outform", "DER", "-out", t(name + ".csr.der"),
                cwd=tmp)
    return {p.name: p.read_bytes() for p in pathlib.Path(tmp).iterdir()}


def write(target, seeds):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def mqtt_string(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def mqtt_packet(first, body):
    length, encoded = len(body), b""
    while True:
        byte, length = length % 128, length // 128
        encoded += bytes([byte | (0x80 if length else 0)])
        if not length:
            return bytes([first]) + encoded + body


def mqtt_seeds():
    user = "localhost:8883/widget-001/?api-version=2021-04-12"
    connect = mqtt_string("MQTT") + bytes([4, 0xC2]) + struct.pack(">H", 60)
    connect += mqtt_string("widget-001") + mqtt_string(user) + mqtt_string("")
    will = mqtt_string("MQTT") + bytes([4, 0x2E]) + struct.pack(">H", 30) + mqtt_string("w")
    will += mqtt_string("devices/w/messages/events/") + mqtt_string("gone")
    topic = "devices/widget-001/messages/events/"
    return {
        "connect": mqtt_packet(0x10, connect),
        "connect-will": mqtt_packet(0x10, will),
        "connack": mqtt_packet(0x20, bytes([0, 0])),
        "publish-qos0": mqtt_packet(0x30, mqtt_string(topic) + b'{"t":21.5}'),
        "publish-qos1": mqtt_packet(0x32, mqtt_string(topic) + struct.pack(">H", 7) + b"hi"),
        "publish-twin": mqtt_packet(0x30, mqtt_string("%24iothub/twin/PATCH/properties/reported/?$rid=3")
                                    + b'{"fw":"1.2"}'),
        "puback": mqtt_packet(0x40, struct.pack(">H", 7)),
        "subscribe": mqtt_packet(0x82, struct.pack(">H", 1) + mqtt_string("$iothub/methods/POST/#")
                                 + b"\x00" + mqtt_string("devices/+/messages/devicebound/#") + b"\x01"),
        "suback": mqtt_packet(0x90, struct.pack(">H", 1) + b"\x00\x80"),
        "unsubscribe": mqtt_packet(0xA2, struct.pack(">H", 2) + mqtt_string("a/#")),
        "unsuback": mqtt_packet(0xB0, struct.pack(">H", 2)),
        "pingreq": mqtt_packet(0xC0, b""),
        "pingresp": mqtt_packet(0xD0, b""),
        "disconnect": mqtt_packet(0xE0, b""),
        "length-five-bytes": b"\x30\xff\xff\xff\xff\x7f",
    }


def http(method, target, body=b"", headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"] + list(headers)
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_seeds(pki):
    csr = base64.b64encode(pki["dev.csr.der"])
    basic = "Authorization: Basic " + base64.b64encode(b"widget-001:one-time-secret").decode()
    upload = json.dumps({"certificate": pki["ca.pem"].decode()}).encode()
    est = "/.well-known/est/"
    return {
        "est-cacerts": http("GET", est + "cacerts"),
        "est-simpleenroll": http("POST", est + "simpleenroll", csr,
                                 ["Content-Type: application/pkcs10", basic]),
        "est-simplereenroll": http("POST", est + "simplereenroll", csr,
                                   ["Content-Type: application/pkcs10"]),
        # Regression: "====" as a body once crashed the EST servers and the hub.
        "regression-base64-padding": http("POST", est + "simpleenroll", b"====",
                                          ["Content-Type: application/pkcs10", basic]),
        "hub-upload": http("PUT", "/hubs/fuzz/certificates/uploaded", upload,
                           ["Content-Type: application/json"]),
        "hub-verify": http("POST", "/hubs/fuzz/certificates/company-x/verify",
                           json.dumps({"certificate": pki["proof.pem"].decode()}).encode()),
        "hub-code": http("POST", "/hubs/fuzz/certificates/company-x/generateVerificationCode"),
        "hub-devices": http("GET", "/hubs/fuzz/devices?issuer=CN%3DTechnician-Z&from="
                            "2026-01-01T00:00:00Z&status=enabled"),
        "hub-disable-group": http("POST", "/hubs/fuzz/devices/disable?under=CN%3DFactory-Y&key=ab"),
        "hub-register": http("PUT", "/hubs/fuzz/devices/widget-002",
                             b'{"thumbprint":"' + b"AB" * 32 + b'"}'),
        # Regression: a time past 2262 overflowed the clock's conversion.
        "regression-far-future-time": http("GET", "/hubs/fuzz/devices?from=3590-01-01T00:00:00Z"),
        "hub-events": http("GET", "/hubs/fuzz/events?after=3"),
        "hub-message": http("POST", "/hubs/fuzz/devices/widget-001/messages?properties=a%3D1",
                            b"hello"),
        "hub-method": http("POST", "/hubs/fuzz/devices/widget-001/methods/reboot?timeout=5", b"{}"),
        "chunked": b"POST /hubs/fuzz/devices/widget-001/messages HTTP/1.1\r\nHost: h\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    }


def main():
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(tmp)
    b64 = lambda data: base64.b64encode(data)
    write("mqtt_codec", mqtt_seeds())
    write("http_request", http_seeds(pki))
    write("est_bodies", {
        "regression-base64-padding": b"\x00====",
        "base64": b"\x00" + b64(b"chainlab"),
        "csr": b"\x01" + b64(pki["dev.csr.der"]),
        "csr-wrapped": b"\x01" + b"\r\n".join(b64(pki["sub.csr.der"])[i:i + 64]
                                               for i in range(0, 400, 64)),
        "certs-only": b"\x02" + b64(pki["chain.p7"]),
    })
    write("pem_der", {
        "cert.pem": pki["dev.pem"], "cert.der": pki["dev.der"],
        "chain.pem": pki["dev.pem"] + pki["ca.pem"], "csr.pem": pki["dev.csr"],
        "csr.der": pki["dev.csr.der"], "key.pem": pki["dev.key"], "key.p8.der": pki["dev.p8.der"],
        "cert-then-key.der": pki["dev.der"] + pki["dev.p8.der"], "bundle.p12": pki["dev.p12"],
    })
    write("csr_policy", {
        "device.pem": b"\x00" + pki["dev.csr"], "device.der": b"\x00" + pki["dev.csr.der"],
        "factory.der": b"\x07" + pki["sub.csr.der"], "factory.pem": b"\x01" + pki["sub.csr"],
    })
    write("ca_upload", {
        "ca.pem": b"\x00" + pki["ca.pem"], "ca.der": b"\x00" + pki["ca.der"],
        "device.pem": b"\x00" + pki["dev.pem"], "with-key.pem": b"\x00" + pki["ca.pem"] + pki["dev.key"],
        "proof.pem": b"\x01" + pki["proof.pem"], "proof.der": b"\x01" + pki["dev.der"],
    })
    write("device_json", {
        "patch": b'\x00{"firmware":{"version":"1.2.0"},"telemetryInterval":null}',
        "patch-array": b'\x00{"sensors":[1,2,{"a":[true,false,null]}],"s":"\\u00e9\\n"}',
        "deep": b"\x00" + b'{"a":' * 12 + b"1" + b"}" * 12,
        "method-response": b'\x01{"status":"rebooting","in":5}',
        "method-text": b"\x01not json \xff\xfe",
        "stored-and-patch": b'\x02{"a":{"b":1}}{"a":{"c":2}}',
    })
    write("scenario_file", {
        # Regression: a number too large for a double once made the runner
        # exit with internal_error instead of config_invalid.
        "regression-number-overflow.json": '{"name": "big", "timeout_seconds": 1e999}',
        "minimal.json": json.dumps({
            "name": "minimal", "description": "d",
            "actors": [{"id": "company-x", "role": "company"},
                       {"id": "widget-001", "role": "device", "parent": "company-x"}],
            "steps": [{"actor": "widget-001", "action": "connect",
                       "expect": {"outcome": "refused", "reason": "ca_unknown"}}]}),
    })


if __name__ == "__main__":
    main()
