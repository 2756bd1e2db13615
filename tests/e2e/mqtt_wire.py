"""mqtt_wire: the few MQTT 3.1.1 encodings the raw test clients need."""


def varint(n):
    """MQTT's remaining-length encoding."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(s):
    data = s.encode()
    return len(data).to_bytes(2, "big") + data


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body
