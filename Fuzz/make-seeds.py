#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/corpus/<target>/ (committed; rerun to refresh)."""
import os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload

def s(num, text):
    return field(num, 2, text.encode() if isinstance(text, str) else text)

def frame(ftype, call_id, payload=b"", flags=0):
    return struct.pack(">IBBHI", len(payload), ftype, flags, 0, call_id) + payload

PREFACE = b"GARP\x01\x00\x00\x00"
HEADERS, MESSAGE, TRAILERS, CANCEL, PING, GOAWAY = 1, 2, 3, 4, 5, 6

def metadata(key, value):
    return s(2, s(1, key) + s(2, value))

def call_headers(method, meta=(), timeout=0):
    body = s(1, method) + b"".join(metadata(k, v) for k, v in meta)
    if timeout:
        body += field(3, 0, timeout)
    return body

health = "/guestaccess.v1.Health/Check"
watch = "/guestaccess.v1.Health/Watch"
create = "/guestaccess.v1.InvitationService/CreateInvitation"
get = "/guestaccess.v1.InvitationService/GetInvitation"
create_req = s(3, "guest@partner.example") + s(4, "Guest") + field(7, 0, 1) + s(9, s(1, "grp_1") + s(2, "app_1"))

def unary(call_id, method, request=b"", meta=(), timeout=0):
    return (frame(HEADERS, call_id, call_headers(method, meta, timeout))
            + frame(MESSAGE, call_id, request, flags=1))

streams = {
    "health": unary(1, health),
    "health-timeout": unary(1, health, timeout=1_000_000),
    "watch": unary(1, watch, s(1, "")),
    "create-invitation": unary(3, create, create_req, meta=[("authorization", "Bearer x"), ("tenant", "ten_1")]),
    "get-invitation": unary(5, get, s(2, "inv_1")),
    "two-calls": unary(1, health) + unary(3, get, s(2, "inv_2")),
    "cancel": frame(HEADERS, 7, call_headers(health)) + frame(CANCEL, 7),
    "ping": frame(PING, 0, b"\x00" * 8),
    "ping-ack": frame(PING, 0, b"\x01" * 8, flags=1),
    "unknown-method": unary(9, "/guestaccess.v1.Nope/Nope"),
    "bad-request": unary(11, create, b"\xff\xff\xff"),
    "repeated-metadata": unary(13, health, meta=[("x-k", "v" * 10)] * 50),
    "message-before-headers": frame(MESSAGE, 15, b"", flags=1),
    "goaway-from-client": frame(GOAWAY, 0, s(1, "")),
    "split-message": frame(HEADERS, 17, call_headers(create)) + frame(MESSAGE, 17, create_req[:5]) + frame(MESSAGE, 17, create_req[5:], flags=1),
}

def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

for name, stream in streams.items():
    # fuzz-dispatch: byte 0 even = the harness sends the preface first.
    write("fuzz-dispatch", name, b"\x00" + stream)
    # fuzz-frames: byte 0 = payload limit choice (4 = 1024), byte 1 = chunk size.
    write("fuzz-frames", name, b"\x04\x07" + stream)
write("fuzz-dispatch", "raw-preface", b"\x01" + PREFACE + unary(1, health))
write("fuzz-dispatch", "bad-preface", b"\x01" + b"GARP\x02\x00\x00\x00")
write("fuzz-frames", "preface-then-frames", b"\x04\x03" + PREFACE + unary(1, health))
write("fuzz-frames", "oversized", b"\x02\x05" + frame(MESSAGE, 1, b"z" * 200) + unary(3, health))
write("fuzz-frames", "reserved-bits", b"\x04\x40" + struct.pack(">IBBHI", 0, 1, 0, 1, 1))

# fuzz-decoders: byte 0 picks the type by index into the sorted type list,
# so seed a few shapes for every index.
samples = [b"", create_req, call_headers(create, [("a", "b")], 5), s(1, "x") + s(2, "y"), field(1, 0, 150), s(3, s(1, s(1, "deep")))]
count = int(sys.argv[1]) if len(sys.argv) > 1 else 113
for index in range(count):
    for k, sample in enumerate(samples):
        write("fuzz-decoders", f"type{index:03d}-{k}", bytes([index]) + sample)
