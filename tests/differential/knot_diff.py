#!/usr/bin/python3
"""Differential test: geodns and Knot DNS serve the same zones and get the same queries.

    knot_diff.py GEODNS_BINARY [--allowlist FILE] [--keep] [--verbose]

The zones are the RFC 1035 files in zones/; Knot serves them as they are, geodns serves what
`geodns import` makes of them (so the importer is tested too). A seeded generator builds queries
of many shapes (every owner and type, random case, EDNS sizes and options, DO/CD/RD, opcodes,
classes, meta types, names below cuts and DNAMEs and outside the zones, malformed headers);
each goes to both servers over UDP, a sample over TCP as well (every DNAME query). The answers are decoded with dnspython (an
independent decoder) and compared field by field: rcode, opcode, each flag, the question, each
section's RRsets as sets (owner case as sent, TTL, class, type, RDATA) and its record count,
the exact case of every name (a difference that is only the question's spelling, left by name
compression, is reported apart as "case-via-question"), EDNS presence, version, payload, DO,
and the options (NSID by content, EDE by code, the others by code).

Every disagreement has a key like `udp/QUERY/IN/tosub.diff.test./A/e1232/authority`; the
allow-list holds shell-style patterns with a reason. The test fails on a disagreement no
pattern matches, and on a pattern that matches no disagreement (the list stays true).

Both servers run from a temporary directory on free loopback ports and are stopped by PID, also
when the test fails. Needs knotd (Debian `knot`) and dnspython (`python3-dnspython`).
"""

import argparse
import fnmatch
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rcode

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = {"diff.test.": "diff.test.zone", "child.diff.test.": "child.diff.test.zone"}
IDENTITY = "diff-id"
VERSION = "diff-version"
NSID = "diff-nsid"
SEED = 12
TIMEOUT_S = 0.7

# ------------------------------------------------------------------------------------------------
# Servers


def port_is_free(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(rng):
    for _ in range(200):
        port = rng.randrange(20000, 60000)
        if port_is_free(port):
            return port
    raise RuntimeError("no free loopback port")


class Server:
    """A child process stopped by its PID (SIGTERM, then SIGKILL)."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def wait_ready(server, port, limit_s=15):
    probe = dns.message.make_query("diff.test.", "SOA").to_wire()
    child = dns.message.make_query("child.diff.test.", "SOA").to_wire()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not server.alive():
            break
        a = udp_exchange(port, probe, 0.2)
        b = udp_exchange(port, child, 0.2)
        if a is not None and b is not None:
            ma, mb = dns.message.from_wire(a), dns.message.from_wire(b)
            if ma.rcode() == 0 and ma.answer and mb.rcode() == 0 and mb.answer:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer on port {port}:\n{server.log_text()}")


def start_knot(tmp, port):
    d = os.path.join(tmp, "knot")
    for sub in ("zones", "db", "run"):
        os.makedirs(os.path.join(d, sub))
    zone_lines = []
    for origin, file in ZONES.items():
        shutil.copy(os.path.join(HERE, "zones", file), os.path.join(d, "zones", file))
        zone_lines.append(f"  - domain: {origin}\n    file: \"{d}/zones/{file}\"\n")
    conf = os.path.join(d, "knot.conf")
    with open(conf, "w") as f:
        f.write(
            f"""server:
    rundir: "{d}/run"
    listen: 127.0.0.1@{port}
    identity: "{IDENTITY}"
    version: "{VERSION}"
    nsid: "{NSID}"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "{d}/db"
template:
  - id: default
    storage: "{d}/zones"
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
zone:
"""
            + "".join(zone_lines)
        )
    server = Server("knotd", ["knotd", "-c", conf], os.path.join(d, "log"))
    try:
        wait_ready(server, port)
    except RuntimeError:
        server.stop()
        raise
    return server


def start_geodns(binary, tmp, port):
    d = os.path.join(tmp, "geodns")
    zones = os.path.join(d, "zones")
    os.makedirs(zones)
    for origin, file in ZONES.items():
        out = os.path.join(zones, origin.rstrip(".") + ".toml")
        r = subprocess.run(
            [binary, "import", os.path.join(HERE, "zones", file), "--origin", origin,
             "--output", out],
            capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"geodns import {file} failed:\n{r.stderr}")
    conf = os.path.join(d, "geodns.toml")
    with open(conf, "w") as f:
        f.write(
            f"""[server]
listen = ["127.0.0.1:{port}"]
threads = 1
state_dir = "{d}"
geoip = ""
log_level = "warn"
{GEODNS_NSID_LINE}

[server.chaos]
enabled = true
id = "{IDENTITY}"
version = "{VERSION}"

[control]
listen = ""
""")
    server = Server("geodns", [binary, "serve", "--config", conf, "--zones", zones],
                    os.path.join(d, "log"))
    try:
        wait_ready(server, port)
    except RuntimeError:
        server.stop()
        raise
    return server


# The identity geodns is given; NSID is compared only when both servers send it.
GEODNS_NSID_LINE = f'nsid = "{NSID}"'

# ------------------------------------------------------------------------------------------------
# Transport


def udp_exchange(port, wire, timeout=TIMEOUT_S):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(wire, ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        return data
    except (socket.timeout, ConnectionRefusedError):
        return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_exchange(port, wire, timeout=TIMEOUT_S):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
        s.sendall(struct.pack("!H", len(wire)) + wire)
        head = recv_exact(s, 2)
        if head is None:
            return None
        return recv_exact(s, struct.unpack("!H", head)[0])
    except (socket.timeout, ConnectionError):
        return None
    finally:
        s.close()


# ------------------------------------------------------------------------------------------------
# Queries


class Query:
    """One query: its wire form and the key under which its disagreements are reported."""

    def __init__(self, key, wire, tcp=False):
        self.key = key
        self.wire = wire
        self.tcp = tcp


def random_case(rng, name):
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def build(rng, qname, qtype, qclass="IN", opcode=0, edns=1232, version=0, do=False, cd=False,
          rd=False, options=(), tcp=False, case=True):
    sent = random_case(rng, qname) if case else qname
    m = dns.message.make_query(sent, qtype, qclass, use_edns=False)
    m.id = rng.randrange(65536)
    m.flags = 0
    if rd:
        m.flags |= dns.flags.RD
    if cd:
        m.flags |= dns.flags.CD
    m.set_opcode(opcode)
    variant = []
    if edns is None:
        variant.append("noedns")
    else:
        m.use_edns(version, dns.flags.DO if do else 0, edns, options=list(options))
        variant.append(f"e{edns}" + (f"v{version}" if version else ""))
        if do:
            variant.append("do")
        for o in options:
            variant.append(f"opt{int(o.otype)}")
    if cd:
        variant.append("cd")
    if rd:
        variant.append("rd")
    key = "/".join([
        "tcp" if tcp else "udp",
        dns.opcode.to_text(opcode) if opcode in (0, 1, 2, 4, 5) else f"OPCODE{opcode}",
        dns.rdataclass.to_text(dns.rdataclass.from_text(qclass) if isinstance(qclass, str)
                               else qclass),
        qname.lower(),
        dns.rdatatype.to_text(dns.rdatatype.from_text(qtype) if isinstance(qtype, str)
                              else qtype),
        ",".join(variant),
    ])
    return Query(key, m.to_wire(), tcp)


def raw(key, header, body=b"", tcp=False):
    return Query(f"{'tcp' if tcp else 'udp'}/RAW/{key}", header + body, tcp)


def question(name, qtype=1, qclass=1):
    return dns.name.from_text(name).to_wire() + struct.pack("!HH", qtype, qclass)


def header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


OWNERS = [
    # every owner of both zones
    "diff.test.", "ns1.diff.test.", "ns2.diff.test.", "mail.diff.test.", "www.diff.test.",
    "mixed.diff.test.", "txt.diff.test.", "long.diff.test.", "_sip._tcp.diff.test.",
    "sip.diff.test.", "caa.diff.test.", "ptr.diff.test.", "hinfo.diff.test.",
    "sshfp.diff.test.", "_443._tcp.diff.test.", "naptr.diff.test.", "rp.diff.test.",
    "uri.diff.test.", "a.b.c.ent.diff.test.", "host.wild.diff.test.", "x.y.wild.diff.test.",
    "alias.diff.test.", "alias2.diff.test.", "towild.diff.test.", "tocwild.diff.test.",
    "toext.diff.test.", "tonx.diff.test.", "tosub.diff.test.", "tochild.diff.test.",
    "loop1.diff.test.", "sub.diff.test.", "ns1.sub.diff.test.", "child.diff.test.",
    "ns1.child.diff.test.", "www.child.diff.test.",
    # empty non-terminals
    "c.ent.diff.test.", "b.c.ent.diff.test.", "_tcp.diff.test.", "y.wild.diff.test.",
    # wildcard matches, a wildcard owner asked literally, names below an explicit name
    "foo.wild.diff.test.", "a.b.wild.diff.test.", "*.wild.diff.test.", "z.y.wild.diff.test.",
    "q.cwild.diff.test.", "wild.diff.test.", "deep.host.wild.diff.test.",
    # below cuts
    "host.sub.diff.test.", "a.b.sub.diff.test.", "x.ns1.child.diff.test.",
    # nonexistent, and outside every zone we serve
    "nx.diff.test.", "a.nx.diff.test.", "nx.child.diff.test.", "www.elsewhere.example.",
    "test.", ".", "xdiff.test.",
]
DNAME_OWNERS = ["red.diff.test.", "x.red.diff.test.", "nx.red.diff.test.", "a.x.red.diff.test.",
                "todn.diff.test.", "www.away.diff.test."]
TYPES = ["A", "AAAA", "NS", "MX", "TXT", "SRV", "CAA", "PTR", "SOA", "CNAME", "HINFO", "SSHFP",
         "TLSA", "NAPTR", "RP", "DS", "DNSKEY", "NSEC", "RRSIG", "DNAME", "TYPE65280",
         "TYPE65534", "ANY"]


def generate(rng):
    queries = []
    # Every owner and type, each with a random EDNS shape: no OPT, small, common, large sizes.
    for owner in OWNERS:
        for qtype in TYPES:
            edns = rng.choice([None, 512, 1232, 1232, 4096])
            queries.append(build(rng, owner, qtype, edns=edns, do=rng.random() < 0.3,
                                 cd=rng.random() < 0.2, rd=rng.random() < 0.5))
    # Fixed shapes at a few owners: each EDNS size, DO, CD, RD, version, options.
    some = ["www.diff.test.", "nx.diff.test.", "host.sub.diff.test.", "alias2.diff.test.",
            "txt.diff.test.", "diff.test."]
    for owner in some:
        for edns in (None, 0, 511, 512, 1232, 1400, 4096, 65535):
            queries.append(build(rng, owner, "A", edns=edns))
        queries.append(build(rng, owner, "A", do=True))
        queries.append(build(rng, owner, "A", cd=True))
        queries.append(build(rng, owner, "A", rd=True))
        queries.append(build(rng, owner, "A", version=1))
        queries.append(build(rng, owner, "A", version=1, do=True))
        queries.append(build(rng, owner, "A", options=[dns.edns.GenericOption(3, b"")]))  # NSID
        queries.append(build(rng, owner, "A", options=[dns.edns.GenericOption(65001, b"xy")]))
        queries.append(build(rng, owner, "A", options=[
            dns.edns.ECSOption("198.51.100.0", 24)]))
        queries.append(build(rng, owner, "A", options=[
            dns.edns.GenericOption(10, bytes(range(8)))]))  # client cookie
    # Opcodes (QUERY, IQUERY, STATUS, unassigned 3, NOTIFY, UPDATE, unassigned 15), with and
    # without EDNS, CD and RD set to see what is copied.
    for opcode in (1, 2, 3, 4, 5, 15):
        for edns in (None, 1232):
            queries.append(build(rng, "diff.test.", "SOA", opcode=opcode, edns=edns, cd=True,
                                 rd=True, case=False))
    # Classes: CH (the server identity names and others), ANY, NONE, HS, unknown.
    for name in ("id.server.", "hostname.bind.", "version.bind.", "version.server.",
                 "authors.bind.", "diff.test."):
        for qtype in ("TXT", "A", "ANY"):
            queries.append(build(rng, name, qtype, qclass="CH", case=False))
    for qclass in ("ANY", "NONE", "HS", "CLASS42"):
        for owner in ("www.diff.test.", "nx.diff.test."):
            queries.append(build(rng, owner, "A", qclass=qclass))
    # Meta types asked as questions.
    for qtype in ("AXFR", "IXFR", "OPT", "TSIG", "TKEY", "MAILA", "MAILB", "TYPE0", "TYPE128"):
        for owner in ("diff.test.", "www.diff.test."):
            queries.append(build(rng, owner, qtype))
    # A sample over TCP, and zone transfers where they belong.
    for q in rng.sample(queries, len(queries) // 12):
        q2 = Query(q.key.replace("udp/", "tcp/", 1), q.wire, tcp=True)
        queries.append(q2)
    queries.append(build(rng, "diff.test.", "AXFR", tcp=True))
    queries.append(build(rng, "child.diff.test.", "IXFR", tcp=True))
    queries.append(build(rng, "www.diff.test.", "A", edns=None, tcp=True))
    # Malformed or unusual headers.
    qid = 0x1234
    queries += [
        raw("qdcount0", header(qid, 0, qd=0)),
        raw("qdcount0-edns", header(qid, 0, qd=0, ar=1), b"\0" + struct.pack("!HHIH", 41, 1232,
                                                                               0, 0)),
        raw("qdcount2", header(qid, 0, qd=2), question("www.diff.test.") * 2),
        raw("ancount1", header(qid, 0, an=1), question("www.diff.test.") +
            b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\1\2\3\4"),
        raw("qr-set", header(qid, 0x8000), question("www.diff.test.")),
        raw("short-header", header(qid, 0)[:7]),
        raw("truncated-question", header(qid, 0), question("www.diff.test.")[:-3]),
        raw("two-opt", header(qid, 0, ar=2), question("www.diff.test.") +
            (b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)) * 2),
        raw("opt-not-root", header(qid, 0, ar=1), question("www.diff.test.") +
            b"\1x\0" + struct.pack("!HHIH", 41, 1232, 0, 0)),
        raw("tc-set", header(qid, 0x0200), question("www.diff.test.")),
        raw("z-bit", header(qid, 0x0040), question("www.diff.test.")),
        raw("ad-set", header(qid, 0x0020), question("www.diff.test.")),
    ]
    # Long datagrams (an OPT padding option of N bytes): 8000 fits every read buffer, 20000 is
    # longer than geodns's.
    for size in (8000, 20000):
        queries.append(raw(f"udp-{size}-bytes", header(qid, 0, ar=1), question("www.diff.test.") +
                           b"\0" + struct.pack("!HHIH", 41, 1232, 0, size + 4) +
                           struct.pack("!HH", 12, size) + bytes(size)))
    # DNAME (RFC 6672): the owner, names below it (found, missing, deeper), through a CNAME,
    # out of the zone; every type over UDP and TCP. Last, so the draws above stay as they were.
    for owner in DNAME_OWNERS:
        for qtype in TYPES:
            edns = rng.choice([None, 512, 1232, 4096])
            q = build(rng, owner, qtype, edns=edns, do=rng.random() < 0.3, rd=rng.random() < 0.5)
            queries += [q, Query(q.key.replace("udp/", "tcp/", 1), q.wire, tcp=True)]
    return queries


# ------------------------------------------------------------------------------------------------
# Comparison


def describe(wire):
    """The fields compared, as a dict of field -> comparable value."""
    if wire is None:
        return {"response": "none"}
    try:
        m = dns.message.from_wire(wire, ignore_trailing=True, one_rr_per_rrset=True)
    except Exception as e:  # noqa: BLE001 - any decode error is a comparable outcome
        return {"response": f"undecodable ({type(e).__name__})"}
    out = {"response": "message", "rcode": dns.rcode.to_text(m.rcode()),
           "opcode": dns.opcode.to_text(m.opcode())}
    for flag in ("QR", "AA", "TC", "RD", "RA", "AD", "CD"):
        out[f"flags.{flag}"] = bool(m.flags & dns.flags.from_text(flag))
    out["flags.Z"] = bool(m.flags & 0x0040)
    names = ["question", "answer", "authority", "additional"]
    for i, section in enumerate(m.sections):
        rrs, exact = set(), set()
        for rrset in section:
            for rd in rrset or [None]:
                owner = rrset.name.to_text()
                rest = " ".join(x for x in (
                    "" if i == 0 else str(rrset.ttl), dns.rdataclass.to_text(rrset.rdclass),
                    dns.rdatatype.to_text(rrset.rdtype), "" if rd is None else rd.to_text()) if x)
                exact.add(f"{owner} {rest}")
                # The question and the answer owners keep the case as sent (both servers echo
                # the question's case); every other name compares case-insensitively here and
                # exactly in "<section>.case", since where a name's case comes from depends on
                # each server's name compression (RFC 4343: names compare without case).
                if i > 1:
                    owner = owner.lower()
                rrs.add(f"{owner} {rest.lower() if i > 0 else rest}")
        out[names[i]] = sorted(rrs)
        # Sets hide a record sent twice: the count shows it.
        out[names[i] + ".count"] = sum(len(rrset) or 1 for rrset in section)
        if i > 0:
            out[names[i] + ".case"] = sorted(exact)
    if m.edns < 0:
        out["edns"] = "none"
    else:
        out["edns"] = f"v{m.edns}"
        out["edns.payload"] = m.payload
        out["edns.do"] = bool(m.ednsflags & dns.flags.DO)
        opts = []
        for o in m.options:
            code = int(o.otype)
            if code == 3:  # NSID: the identity itself
                opts.append(f"NSID={o.to_wire().decode(errors='replace')}"
                            if hasattr(o, "to_wire") else "NSID")
            elif code == 15:  # EDE: the info code (the texts are each server's own)
                ede = getattr(o, "code", None)
                if ede is None:
                    ede = struct.unpack("!H", o.to_wire()[:2])[0]
                opts.append(f"EDE={int(ede)}")
            else:
                opts.append(f"opt{code}")
        out["edns.options"] = sorted(opts)
    return out


def sent_labels(wire):
    """The question name's labels as sent (case kept), or None."""
    try:
        m = dns.message.from_wire(wire, ignore_trailing=True)
        return [label.decode("latin-1") for label in m.question[0].name.labels if label]
    except Exception:  # noqa: BLE001 - malformed queries have no usable question
        return None


def case_via_question(g_rrs, k_rrs, qlabels):
    """True when every case difference between the two servers' records of a section is one
    server spelling a name's tail as the question spelled it: name compression onto the
    question (RFC 1035 4.1.4), which keeps the name, not its case (RFC 4343)."""
    if qlabels is None:
        return False
    qtail = list(qlabels)
    for g_rr, k_rr in zip(sorted(g_rrs, key=str.lower), sorted(k_rrs, key=str.lower)):
        for a, b in zip(g_rr.split(" "), k_rr.split(" ")):
            if a == b:
                continue
            la, lb = a.rstrip(".").split("."), b.rstrip(".").split(".")
            if a.lower() != b.lower() or len(la) != len(lb):
                return False
            first = next(i for i in range(len(la)) if la[i] != lb[i])
            n = len(la) - first
            if n > len(qtail) or (la[first:] != qtail[-n:] and lb[first:] != qtail[-n:]):
                return False
    return True


def compare(q, geodns_port, knot_port):
    exchange = tcp_exchange if q.tcp else udp_exchange
    g = describe(exchange(geodns_port, q.wire))
    k = describe(exchange(knot_port, q.wire))
    diffs = []
    for field in sorted(set(g) | set(k)):
        gv, kv = g.get(field, "-"), k.get(field, "-")
        section = field.rsplit(".", 1)[0]
        if field.endswith((".case", ".count")) and g.get(section) != k.get(section):
            continue  # already reported as a difference of the section itself
        if gv == kv:
            continue
        if field.endswith(".case") and case_via_question(gv, kv, sent_labels(q.wire)):
            field += "-via-question"
        diffs.append((f"{q.key}/{field}", gv, kv))
    return diffs


def load_allowlist(path):
    entries = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pattern, _, reason = line.partition(" ")
            if not reason.strip():
                raise RuntimeError(f"{path}:{n}: an entry needs a reason after the pattern")
            entries.append((pattern, reason.strip(), n))
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("geodns")
    ap.add_argument("--allowlist", default=os.path.join(HERE, "allowlist.txt"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--verbose", action="store_true", help="print every disagreement")
    args = ap.parse_args()
    if shutil.which("knotd") is None:
        print("knot_diff: knotd not found (scripts/install-deps.sh installs Debian's knot)")
        return 1

    allow = load_allowlist(args.allowlist)
    tmp = tempfile.mkdtemp(prefix="geodns-knot-diff-")
    servers = []
    t0 = time.monotonic()
    try:
        # Ports at random (not from the seed: two runs at once must not pick the same ones); a
        # port taken between the check and the server's bind gets another try.
        ports = random.SystemRandom()
        knot_port = geodns_port = 0
        for attempt in range(3):
            knot_port = free_port(ports)
            try:
                servers.append(start_knot(os.path.join(tmp, f"try{attempt}"), knot_port))
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        for attempt in range(3):
            geodns_port = free_port(ports)
            if geodns_port == knot_port:
                continue
            try:
                servers.append(start_geodns(args.geodns, os.path.join(tmp, f"try{attempt}"),
                                            geodns_port))
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        queries = generate(random.Random(SEED))
        disagreements = []
        for q in queries:
            disagreements += compare(q, geodns_port, knot_port)
        for s in servers:
            if not s.alive():
                print(f"knot_diff: {s.name} died during the run:\n{s.log_text()}")
                return 1
    finally:
        for s in servers:
            s.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"knot_diff: kept {tmp}")

    used = [0] * len(allow)
    unexplained = []
    for key, gv, kv in disagreements:
        hit = None
        for i, (pattern, _, _) in enumerate(allow):
            if fnmatch.fnmatchcase(key, pattern):
                hit = i
                break
        if hit is None:
            unexplained.append((key, gv, kv))
        else:
            used[hit] += 1
        if args.verbose:
            tag = "allowed" if hit is not None else "NEW"
            print(f"{tag}: {key}\n    geodns: {gv}\n    knot:   {kv}")
    stale = [(p, r, n) for (p, r, n), u in zip(allow, used) if u == 0]
    elapsed = time.monotonic() - t0
    print(f"knot_diff: {len(queries)} queries, {len(disagreements)} disagreements, "
          f"{len(allow)} allow-list entries, {elapsed:.1f} s")
    for key, gv, kv in unexplained:
        print(f"NOT ON THE ALLOW-LIST: {key}\n    geodns: {gv}\n    knot:   {kv}")
    for pattern, reason, n in stale:
        print(f"STALE ALLOW-LIST ENTRY (line {n}, no longer disagrees): {pattern}  {reason}")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
