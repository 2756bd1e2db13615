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


def read_packet(stream):
    """One packet from a file-like stream: (first byte, body)."""
    first = stream.read(1)
    if not first:
        raise EOFError
    length, shift = 0, 0
    while True:
        byte = stream.read(1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first[0], stream.read(length) if length else b""
