#!/usr/bin/env python3
"""A dependency-free client of the GuestAccess wire protocol (docs/PROTOCOL.md).

Runs one Health.Check (and, with --watch, the first response of a
Health.Watch) against a guestd and prints every byte sent and received as an
annotated hex dump. It doubles as the reference that the protocol document is
enough to write a client from, and produces the dumps quoted in it.

    usage: wire_capture.py [HOST:PORT] [--watch] [--timeout-ms N]
"""
import socket
import struct
import sys

PREFACE = b"GARP\x01\x00\x00\x00"
TYPES = {1: "HEADERS", 2: "MESSAGE", 3: "TRAILERS", 4: "CANCEL", 5: "PING", 6: "GOAWAY"}


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def frame(type_, flags, call_id, payload):
    return struct.pack(">IBBHI", len(payload), type_, flags, 0, call_id) + payload


def call_headers(method, timeout_micros=0, metadata=()):
    payload = field_bytes(1, method.encode())
    for key, value in metadata:
        payload += field_bytes(2, field_bytes(1, key.encode()) + field_bytes(2, value.encode()))
    if timeout_micros:
        payload += field_varint(3, timeout_micros)
    return payload


def dump(direction, data):
    for offset in range(0, len(data), 16):
        chunk = data[offset:offset + 16]
        print(f"{direction} {offset:04x}  {chunk.hex(' '):<47}  {''.join(chr(b) if 32 <= b < 127 else '.' for b in chunk)}")


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        more = sock.recv(count - len(data))
        if not more:
            raise EOFError("connection closed")
        data += more
    return data


def read_frame(sock):
    header = read_exact(sock, 12)
    length, type_, flags, reserved, call_id = struct.unpack(">IBBHI", header)
    payload = read_exact(sock, length)
    dump("S>C", header + payload)
    print(f"    = {TYPES.get(type_, type_)} flags={flags} call_id={call_id} payload={payload.hex() or '(empty)'}")
    return type_, flags, call_id, payload


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    host, port = (args[0] if args else "127.0.0.1:7700").rsplit(":", 1)
    timeout_ms = 0
    if "--timeout-ms" in sys.argv:
        timeout_ms = int(sys.argv[sys.argv.index("--timeout-ms") + 1])
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = PREFACE
    request += frame(1, 0, 1, call_headers("/guestaccess.v1.Health/Check", timeout_ms * 1000))
    request += frame(2, 1, 1, b"")  # empty HealthCheckRequest, END_STREAM
    print("# client preface + Health.Check on call 1")
    dump("C>S", request)
    sock.sendall(request)
    print("# server preface")
    preface = read_exact(sock, 8)
    dump("S>C", preface)
    assert preface == PREFACE, "unexpected server preface"
    print("# response")
    while True:
        type_, _, call_id, payload = read_frame(sock)
        if type_ == 3 and call_id == 1:
            break
    if "--watch" in sys.argv:
        watch = frame(1, 0, 3, call_headers("/guestaccess.v1.Health/Watch")) + frame(2, 1, 3, b"")
        print("# Health.Watch on call 3 (ids must increase; gaps are fine)")
        dump("C>S", watch)
        sock.sendall(watch)
        read_frame(sock)
        ping = frame(5, 0, 0, bytes(range(1, 9)))
        print("# PING")
        dump("C>S", ping)
        sock.sendall(ping)
        read_frame(sock)
        cancel = frame(4, 0, 3, b"")
        print("# CANCEL call 3 (the server sends nothing more for it)")
        dump("C>S", cancel)
        sock.sendall(cancel)
    sock.close()


if __name__ == "__main__":
    main()
