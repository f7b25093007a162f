#!/usr/bin/env python3
"""ECS scope distribution of one steered name: sends `name A` with an EDNS Client Subnet /24
for each of N distinct subnets (the same pseudo-random public /24s for every server, seeded)
to a server on loopback and reports the scopes it answered with.

    bench/ecs_scopes.py --port 5353 [--name www.bench.example] [--subnets 20000] [--seed 1]

Prints one `result` line: answered, mean scope length, distinct scope lengths, distinct scope
networks (subnet/scope: the cache entries a resolver would hold for these clients) and a
histogram by length.
Only 127.0.0.1 is ever queried; each query waits at most 1 s for its answer.
"""
import argparse
import random
import socket
import struct
import sys


def subnets(n, seed):
    rng = random.Random(seed)
    seen = set()
    out = []
    while len(out) < n:
        a = rng.randint(1, 223)
        if a in (10, 100, 127, 169, 172, 192, 198, 203):  # private, shared, reserved, docs
            continue
        s = (a, rng.randint(0, 255), rng.randint(0, 255))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def query(name, qid, subnet):
    header = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split(".")) + b"\0"
    question = qname + struct.pack(">HH", 1, 1)
    ecs = struct.pack(">HBB", 1, 24, 0) + bytes(subnet)
    option = struct.pack(">HH", 8, len(ecs)) + ecs
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(option)) + option
    return header + question + opt


def skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n


def scope_of(msg):
    qd, an, ns, ar = struct.unpack(">HHHH", msg[4:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    for i in range(an + ns + ar):
        pos = skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == 41 and i >= an + ns:
            end = pos + rdlen
            while pos + 4 <= end:
                code, length = struct.unpack(">HH", msg[pos:pos + 4])
                if code == 8:
                    return msg[pos + 7]  # family(2) source(1) scope(1)
                pos += 4 + length
        pos += rdlen
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="www.bench.example")
    ap.add_argument("--subnets", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", args.port))
    sock.settimeout(1.0)
    scopes = []
    networks = set()
    for i, s in enumerate(subnets(args.subnets, args.seed)):
        qid = i & 0xFFFF
        sock.send(query(args.name, qid, s))
        try:
            while True:
                msg = sock.recv(4096)
                if struct.unpack(">H", msg[:2])[0] == qid:
                    break
        except socket.timeout:
            continue
        sc = scope_of(msg)
        if sc is not None:
            scopes.append(sc)
            addr = (s[0] << 24) | (s[1] << 16) | (s[2] << 8)
            networks.add((addr & ~((1 << (32 - min(sc, 32))) - 1) & 0xFFFFFFFF, sc))
    if not scopes:
        print("result answered=0")
        return 1
    hist = {}
    for sc in scopes:
        hist[sc] = hist.get(sc, 0) + 1
    print("result answered=%d mean_scope=%.2f distinct_scopes=%d scope_networks=%d histogram=%s" % (
        len(scopes), sum(scopes) / len(scopes), len(hist), len(networks),
        ",".join("/%d:%d" % (k, hist[k]) for k in sorted(hist))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
