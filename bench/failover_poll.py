#!/usr/bin/env python3
"""Poll a DNS server with A queries until an address leaves (or joins) the answer.

Used by bench/failover-timing.sh. Standard library only; loopback only.

  failover_poll.py --server 127.0.0.1:5355 --name www.fo.bench --addr 127.0.0.22 \
      --until gone --since 1700000000.123 --every 0.05 --max 20

Prints the elapsed milliseconds since --since (an epoch timestamp taken just before the
backend was killed/stopped) when the condition first holds, and exits 0; prints "timeout"
and exits 1 when --max seconds pass first.
"""
import argparse
import random
import socket
import struct
import sys
import time


def build_query(qid: int, name: str) -> bytes:
    header = struct.pack("!HHHHHH", qid, 0x0000, 1, 0, 0, 0)  # RD=0: authoritative server
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return header + qname + struct.pack("!HH", 1, 1)  # A, IN


def skip_name(msg: bytes, off: int) -> int:
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def a_records(msg: bytes) -> set:
    _, _, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    out = set()
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            out.add(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return out


def ask(sock, server, name):
    qid = random.randrange(65536)
    sock.sendto(build_query(qid, name), server)
    deadline = time.monotonic() + 0.5
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            msg, _ = sock.recvfrom(4096)
        except socket.timeout:
            return None
        if len(msg) >= 12 and struct.unpack("!H", msg[:2])[0] == qid:
            return a_records(msg)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--addr", required=True)
    p.add_argument("--until", choices=["gone", "back"], required=True)
    p.add_argument("--since", type=float, default=None, help="epoch seconds; default: now")
    p.add_argument("--every", type=float, default=0.05)
    p.add_argument("--max", type=float, default=20.0)
    a = p.parse_args()
    host, port = a.server.rsplit(":", 1)
    server = (host, int(port))
    since = a.since if a.since is not None else time.time()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    polls = 0
    while time.time() - since < a.max:
        polls += 1
        got = ask(sock, server, a.name)
        if got is not None:
            present = a.addr in got
            if (a.until == "gone" and not present) or (a.until == "back" and present):
                print(f"{(time.time() - since) * 1000:.0f}")
                return 0
        time.sleep(a.every)
    print("timeout")
    return 1


if __name__ == "__main__":
    sys.exit(main())
