#!/usr/bin/env python3
"""Hostile clients against a running guestd, all at once, while a well-behaved
client keeps calling Health.Check; samples guestd's resident memory.

Attacks (each from its own loopback address, so the per-address connection
limit applies to each and not to the well-behaved client on 127.0.0.1):
  - pending headers: connections without a key that send call HEADERS of 60 KB
    and never their request MESSAGE (127.0.0.2);
  - never-reading clients: connections with a tenant admin's key that pipeline
    ListUsers (1000 users a page) and never read a response (127.0.0.3);
  - connection flood: connections that send the preface and idle (127.0.0.4).
Each attacker reconnects whenever the server closes it.

Prints one JSON object with the figures. Used by Scripts/hostile-load.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time

PREFACE = b"GARP\x01\x00\x00\x00"
HEADERS, MESSAGE, TRAILERS, CANCEL, PING, GOAWAY = 1, 2, 3, 4, 5, 6
END_STREAM = 1


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_string(number, text):
    return field_bytes(number, text.encode())


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def frame(kind, call_id, payload=b"", flags=0):
    return struct.pack(">IBBHI", len(payload), kind, flags, 0, call_id) + payload


def call_headers(method, metadata=()):
    body = field_string(1, method)
    for key, value in metadata:
        body += field_bytes(2, field_string(1, key) + field_string(2, value))
    return body


def call(call_id, method, request, metadata=()):
    return frame(HEADERS, call_id, call_headers(method, metadata)) + frame(MESSAGE, call_id, request, END_STREAM)


def parse_fields(payload):
    """Top-level fields of a protobuf message: {number: [value, ...]}."""
    fields, i = {}, 0
    while i < len(payload):
        key, i = read_varint(payload, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(payload, i)
        elif wire == 2:
            length, i = read_varint(payload, i)
            value, i = payload[i:i + length], i + length
        elif wire == 1:
            value, i = payload[i:i + 8], i + 8
        elif wire == 5:
            value, i = payload[i:i + 4], i + 4
        else:
            raise ValueError("bad wire type")
        fields.setdefault(number, []).append(value)
    return fields


def read_varint(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


class Reader:
    """Reads frames from a blocking socket."""

    def __init__(self, sock):
        self.sock, self.buffer, self.preface = sock, b"", False

    def frame(self):
        while True:
            if not self.preface and len(self.buffer) >= 8:
                self.buffer, self.preface = self.buffer[8:], True
            if self.preface and len(self.buffer) >= 12:
                length, kind, flags, _, call_id = struct.unpack(">IBBHI", self.buffer[:12])
                if len(self.buffer) >= 12 + length:
                    payload = self.buffer[12:12 + length]
                    self.buffer = self.buffer[12 + length:]
                    return kind, call_id, payload
            data = self.sock.recv(1 << 16)
            if not data:
                return None
            self.buffer += data


def connect(port, source=None, timeout=10):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        sock.bind((source, 0))
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


def unary(sock, reader, call_id, method, request, metadata=()):
    sock.sendall(call(call_id, method, request, metadata))
    response = None
    while True:
        got = reader.frame()
        if got is None:
            raise RuntimeError("connection closed")
        kind, cid, payload = got
        if cid != call_id:
            continue
        if kind == MESSAGE:
            response = payload
        elif kind == TRAILERS:
            code = parse_fields(payload).get(1, [0])[0] if payload else 0
            if code != 0:
                raise RuntimeError(f"{method}: status {code}: {payload!r}")
            return response


def setup(port, operator_key, users):
    """A tenant and `users` members; returns the admin's secret."""
    sock = connect(port)
    sock.sendall(PREFACE)
    reader = Reader(sock)
    auth = [("authorization", "Bearer " + operator_key)]
    stamp = str(int(time.time() * 1000))
    request = field_string(2, "Hostile " + stamp) + field_string(3, f"h{stamp}.example") + \
        field_string(4, "Hostile Admin") + field_string(5, f"admin@h{stamp}.example")
    response = unary(sock, reader, 1, "/guestaccess.v1.TenantService/CreateTenant", request, auth)
    secret = parse_fields(response)[4][0].decode()
    sock.close()
    sock = connect(port)
    sock.sendall(PREFACE)
    reader = Reader(sock)
    admin = [("authorization", "Bearer " + secret)]
    batch = bytearray()
    for i in range(users):
        name = f"Padding User {i:05d} " + "x" * 120
        batch += call(i + 1, "/guestaccess.v1.TenantService/CreateUser",
                      field_string(3, name) + field_string(4, f"user{i}@h{stamp}.example"), admin)
    sock.sendall(batch)
    ended = 0
    while ended < users:
        kind, _, payload = reader.frame()
        if kind == TRAILERS:
            if payload and parse_fields(payload).get(1, [0])[0] != 0:
                raise RuntimeError(f"CreateUser failed: {payload!r}")
            ended += 1
    sock.close()
    return secret


class Attack(threading.Thread):
    """One hostile connection, reopened whenever the server closes it."""

    def __init__(self, port, source, payload, stop, counters, name, read_buffer=None):
        super().__init__(daemon=True)
        self.port, self.source, self.payload, self.stop = port, source, payload, stop
        self.counters, self.label, self.read_buffer = counters, name, read_buffer

    def run(self):
        while not self.stop.is_set():
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind((self.source, 0))
                if self.read_buffer:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.read_buffer)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
                sock.settimeout(5)
                sock.connect(("127.0.0.1", self.port))
            except OSError:
                self.count("connect_failed")
                time.sleep(0.05)
                continue
            self.count("opened")
            sock.setblocking(False)
            offset, closed = 0, False
            while not self.stop.is_set() and not closed:
                if offset < len(self.payload):
                    try:
                        offset += sock.send(self.payload[offset:offset + (1 << 16)])
                        continue
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed = True
                        break
                # Never read responses; only notice the server closing (peek at end of stream).
                time.sleep(0.05)
                try:
                    if self.read_buffer is None:
                        data = sock.recv(1 << 16)
                        if data == b"":
                            closed = True
                    else:
                        data = sock.recv(1, socket.MSG_PEEK)
                        if data == b"":
                            closed = True
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
            if closed:
                self.count("closed_by_server")
            sock.close()

    def count(self, key):
        with self.counters["lock"]:
            self.counters[self.label][key] = self.counters[self.label].get(key, 0) + 1


def flood(port, source, count, stop, counters):
    """`count` idle connections (preface only), held until `stop`."""
    socks = []
    refused = 0
    for _ in range(count):
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((source, 0))
            sock.setblocking(False)
            try:
                sock.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            socks.append(sock)
        except OSError:
            refused += 1
    time.sleep(0.2)
    for sock in socks:
        try:
            sock.send(PREFACE)
        except OSError:
            pass
    with counters["lock"]:
        counters["connection_flood"]["opened"] = len(socks)
        counters["connection_flood"]["failed_to_open"] = refused
    stop.wait()
    # What the server did with each: kept it (its preface only), refused it
    # (preface and GOAWAY), closed it, or never answered (still in the backlog).
    outcome = {"kept": 0, "refused_with_goaway": 0, "closed": 0, "no_answer": 0}
    for sock in socks:
        try:
            data = sock.recv(1 << 16)
            if data == PREFACE:
                outcome["kept"] += 1
            elif data.startswith(PREFACE):
                outcome["refused_with_goaway"] += 1
            else:
                outcome["closed"] += 1
        except BlockingIOError:
            outcome["no_answer"] += 1
        except OSError:
            outcome["closed"] += 1
        sock.close()
    with counters["lock"]:
        counters["connection_flood"].update(outcome)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def well_behaved(port, stop, results):
    """Health.Check every 50 ms on one connection (reconnecting if needed)."""
    sock, reader, call_id = None, None, 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            if sock is None:
                sock = connect(port, timeout=5)
                sock.sendall(PREFACE)
                reader, call_id = Reader(sock), 0
            call_id += 1
            unary(sock, reader, call_id, "/guestaccess.v1.Health/Check", b"")
            results["ok"] += 1
            results["latencies"].append(time.monotonic() - started)
        except (OSError, RuntimeError) as error:
            results["failed"] += 1
            results["errors"].append(str(error)[:120])
            if sock:
                sock.close()
            sock = None
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--operator-key", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--header-connections", type=int, default=64)
    parser.add_argument("--reader-connections", type=int, default=16)
    parser.add_argument("--flood-connections", type=int, default=5000)
    args = parser.parse_args()

    secret = setup(args.port, args.operator_key, args.users)
    baseline = rss_kib(args.pid)
    stop = threading.Event()
    counters = {"lock": threading.Lock(), "pending_headers": {}, "never_reading": {}, "connection_flood": {}}

    pad = [("x-pad", "h" * 60_000)]
    headers_payload = PREFACE + b"".join(
        frame(HEADERS, i, call_headers("/guestaccess.v1.Health/Check", pad)) for i in range(1, 4001))
    auth = [("authorization", "Bearer " + secret)]
    list_users = field_varint(2, 1000)
    readers_payload = PREFACE + b"".join(
        call(i, "/guestaccess.v1.TenantService/ListUsers", list_users, auth) for i in range(1, 1001))

    samples = []
    good = {"ok": 0, "failed": 0, "latencies": [], "errors": []}
    threads = [threading.Thread(target=well_behaved, args=(args.port, stop, good), daemon=True)]
    threads += [Attack(args.port, "127.0.0.2", headers_payload, stop, counters, "pending_headers")
                for _ in range(args.header_connections)]
    threads += [Attack(args.port, "127.0.0.3", readers_payload, stop, counters, "never_reading", read_buffer=4096)
                for _ in range(args.reader_connections)]
    threads.append(threading.Thread(
        target=flood, args=(args.port, "127.0.0.4", args.flood_connections, stop, counters), daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - started < args.seconds:
        samples.append(rss_kib(args.pid))
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    time.sleep(2)
    after = rss_kib(args.pid)
    latencies = sorted(good["latencies"]) or [0]
    del counters["lock"]
    report = {
        "seconds": args.seconds,
        "rss_baseline_mib": round(baseline / 1024, 1),
        "rss_peak_mib": round(max(samples) / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "health_checks_ok": good["ok"],
        "health_checks_failed": good["failed"],
        "health_check_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "health_check_max_ms": round(latencies[-1] * 1000, 1),
        "health_check_errors": good["errors"][:5],
        "attackers": counters,
    }
    print(json.dumps(report, indent=2))
    return 0 if good["failed"] == 0 and good["ok"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
