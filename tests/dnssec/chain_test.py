#!/usr/bin/python3
"""End-to-end DNSSEC validation the way users see it: a signed chain on loopback, a real resolver.

    chain_test.py --child knot                 [--keep] [--verbose]     (step A: proves the harness)
    chain_test.py --child geodns GEODNS_BINARY [--keep] [--verbose]     (step B: geodns signs)
    chain_test.py --child geodns-unsigned GEODNS_BINARY                 (step B, nothing signed)
    chain_test.py --child geodns --keygen ldns GEODNS_BINARY   (step B, keys from ldns-keygen)

The chain, each server on port 53 of its own loopback address 127.A.B.x (A, B random, so that
two runs do not meet), because a resolver that follows delegations asks port 53:
  .1   Knot, the root zone "." (automatic signing), delegating example. with its DS
  .2   Knot, example. (automatic signing), delegating geo.example. with the child's DS
  .3   the child geo.example.: a second Knot signing it (step A) or geodns signing online
       (step B); it delegates insecure.geo.example. without a DS
  .4   the parent's Knot again, serving insecure.geo.example. unsigned
  .10  Unbound (Debian's, its own config: validator + subnetcache, root hints at .1, the root's
       DNSKEY as trust anchor, ECS sent to .3), on a free port
The answers are read from Unbound with dnspython (not our codec): AD set means Unbound
validated them. `delv` with the same trust anchor, through Unbound, must say "fully validated":
it fetches the DNSKEYs and DSes itself and checks every signature from the root key down.
Negative controls prove the test can fail: the child is re-signed with a key whose DS the
parent does not have, and both Unbound (SERVFAIL) and delv must reject it; a second Unbound
whose clock runs 30 days ahead must find the signatures expired.

Step B also steers: clients of five continents (ECS through Unbound, geoip/demo.mmdb) get
their datacenter's address with AD; then the TCP listener a datacenter's health check probes
is stopped and the new, health-filtered answer validates too. Step B exits 77 (ctest: skipped)
with a message while the geodns binary has no `dnssec` command; once it has one, every check
runs. `geodns-unsigned` runs step B with the child unsigned and no DS in the parent: the same
steering and failover through Unbound, every answer expected insecure (no AD, no SERVFAIL).

Every server runs from a temporary directory and is stopped by its PID, also on failure.
Needs root (port 53 on 127.A.B.x), knotd, unbound, delv (bind9-dnsutils), python3-dnspython.
"""

import argparse
import base64
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.dnssec
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CHILD = "geo.example."
GRANDCHILD = "insecure." + CHILD
VERBOSE = False
# False for --child geodns-unsigned: the same chain and checks with the child unsigned and no
# DS in the parent, every answer expected insecure (no AD) instead of validated.
SIGNED = True

# Clients of five continents in geoip/demo.mmdb (geoip/demo-source.csv) and the datacenter
# the child's [steer.www] map sends each to while every datacenter is up.
CLIENTS = {
    "EU": ("81.2.69.0", "fra"),
    "NA": ("8.8.8.0", "iad"),
    "AS": ("133.1.0.0", "sin"),
    "SA": ("200.160.0.0", "gru"),
    "OC": ("1.1.1.0", "sin"),
}
DATACENTERS = ("fra", "iad", "sin", "gru")


def log(msg):
    print(msg, flush=True)


def debug(msg):
    if VERBOSE:
        print("  . " + msg, flush=True)


# ------------------------------------------------------------------------------------------------
# Processes and addresses


class Process:
    """A child process stopped by its PID (SIGTERM, then SIGKILL), output into a log file."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        debug(f"start {name}: {' '.join(argv)}")
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
        if not self.log.closed:
            self.log.close()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def can_bind(addr, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def pick_network(rng):
    """127.A.B: port 53 free on .1-.4, nothing else bound on the addresses we use."""
    for _ in range(100):
        net = f"127.{rng.randrange(100, 250)}.{rng.randrange(1, 250)}"
        if all(can_bind(f"{net}.{i}", 53) for i in (1, 2, 3, 4)):
            return net
    raise RuntimeError("cannot bind port 53 on loopback addresses 127.A.B.1-4 (run as root; "
                       "is a resolver bound to 0.0.0.0:53?)")


def free_port(rng, addr):
    for _ in range(200):
        port = rng.randrange(20000, 60000)
        if can_bind(addr, port):
            return port
    raise RuntimeError(f"no free port on {addr}")


# ------------------------------------------------------------------------------------------------
# DNS helpers (dnspython)


def query(addr, port, name, rdtype, *, rd=False, do=True, ecs=None, timeout=1.0, tcp=False):
    options = []
    if ecs is not None:
        options.append(dns.edns.ECSOption(ecs, 24))
    q = dns.message.make_query(name, rdtype, want_dnssec=do, use_edns=0, payload=1232,
                               options=options)
    if not rd:
        q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, addr, port=port, timeout=timeout)
    r = dns.query.udp(q, addr, port=port, timeout=timeout, ignore_trailing=True)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, addr, port=port, timeout=timeout)
    return r


def try_query(*args, **kwargs):
    try:
        return query(*args, **kwargs)
    except (dns.exception.DNSException, OSError) as e:
        debug(f"query {args[2:4]}: {e}")
        return None


def answer_rrset(msg, name, rdtype):
    for rrset in msg.answer:
        if rrset.name == dns.name.from_text(name) and rrset.rdtype == rdtype:
            return rrset
    return None


def addresses(msg, rdtype=dns.rdatatype.A):
    return sorted(rd.to_text() for rrset in msg.answer if rrset.rdtype == rdtype for rd in rrset)


def summary(msg):
    if msg is None:
        return "no answer"
    flags = dns.flags.to_text(msg.flags)
    ans = "; ".join(rr.to_text() for rr in msg.answer if rr.rdtype != dns.rdatatype.RRSIG)
    return f"{dns.rcode.to_text(msg.rcode())} [{flags}] {ans}"


def wait_signed(addr, zone, limit_s=20, not_tags=()):
    """Until the server answers DNSKEY for `zone` signed, with a KSK not in not_tags."""
    deadline = time.monotonic() + limit_s
    last = None
    while time.monotonic() < deadline:
        r = try_query(addr, 53, zone, dns.rdatatype.DNSKEY, timeout=0.5)
        last = r
        if r is not None and r.rcode() == 0:
            keys = answer_rrset(r, zone, dns.rdatatype.DNSKEY)
            sigs = [x for x in r.answer if x.rdtype == dns.rdatatype.RRSIG]
            if keys and sigs:
                ksks = [k for k in keys if k.flags & 1]
                if ksks and not {dns.dnssec.key_id(k) for k in ksks} & set(not_tags):
                    return keys
        time.sleep(0.2)
    raise RuntimeError(f"{zone} on {addr} not signed within {limit_s}s: {summary(last)}")


def ksk_records(keys):
    return [k for k in keys if k.flags & 1] or list(keys)


def ds_records(zone, keys):
    return [dns.dnssec.make_ds(zone, k, "SHA256") for k in ksk_records(keys)]


# ------------------------------------------------------------------------------------------------
# Knot


def start_knot(tmp, name, listens, zones):
    """zones: {origin: (zone text, signed?)}. Returns the Process."""
    d = os.path.join(tmp, name)
    for sub in ("zones", "db", "run"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    listen = "".join(f"    listen: {a}@53\n" for a in listens)
    zone_lines = []
    for origin, (text, signed) in zones.items():
        file = os.path.join(d, "zones", ("root" if origin == "." else origin.rstrip(".")) + ".zone")
        with open(file, "w") as f:
            f.write(text)
        zone_lines.append(f"  - domain: \"{origin}\"\n    file: \"{file}\"\n")
        if signed:
            zone_lines.append("    dnssec-signing: on\n    dnssec-policy: chain\n")
    conf = os.path.join(d, "knot.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    rundir: "{d}/run"
{listen}    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: notice
database:
    storage: "{d}/db"
policy:
  - id: chain
    algorithm: ecdsap256sha256
    nsec3: off
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
template:
  - id: default
    storage: "{d}/zones"
    zonefile-sync: -1
zone:
{''.join(zone_lines)}""")
    check = subprocess.run(["knotc", "-c", conf, "conf-check"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"knot {name} config rejected: {check.stdout}{check.stderr}")
    return Process(f"knot-{name}", ["knotd", "-c", conf], os.path.join(d, "log"))


def soa(origin, ns, minimum=30):
    rname = "hostmaster." + (origin if origin != "." else "nic.")
    return f"{origin} 60 IN SOA {ns} {rname} 1 60 30 3600 {minimum}\n"


def root_zone(net, example_ds):
    text = soa(".", "ns.nic.")
    text += f". 60 IN NS ns.nic.\nns.nic. 60 IN A {net}.1\n"
    text += f"example. 60 IN NS ns.example.\nns.example. 60 IN A {net}.2\n"
    text += "".join(f"example. 60 IN DS {ds.to_text()}\n" for ds in example_ds)
    return text


def parent_zone(net, child_ds):
    text = soa("example.", "ns.example.")
    text += f"example. 60 IN NS ns.example.\nns.example. 60 IN A {net}.2\n"
    text += f"{CHILD} 60 IN NS ns.{CHILD}\nns.{CHILD} 60 IN A {net}.3\n"
    text += "".join(f"{CHILD} 60 IN DS {ds.to_text()}\n" for ds in child_ds)
    return text


def grandchild_zone(net):
    text = soa(GRANDCHILD, f"ns.{GRANDCHILD}")
    text += f"{GRANDCHILD} 60 IN NS ns.{GRANDCHILD}\nns.{GRANDCHILD} 60 IN A {net}.4\n"
    text += f"host.{GRANDCHILD} 60 IN A 192.0.2.30\n"
    return text


def knot_child_zone(net):
    """The names every step checks, as an RFC 1035 zone for Knot."""
    c = CHILD
    return (soa(c, f"ns.{c}", 5) + f"""{c} 60 IN NS ns.{c}
ns.{c} 60 IN A {net}.3
static.{c} 5 IN A 192.0.2.1
static.{c} 5 IN AAAA 2001:db8::1
*.wild.{c} 5 IN A 192.0.2.20
alias.{c} 5 IN CNAME static.{c}
insecure.{c} 60 IN NS ns.{GRANDCHILD}
ns.{GRANDCHILD} 60 IN A {net}.4
""")


# ------------------------------------------------------------------------------------------------
# Unbound and delv


class Resolver:
    def __init__(self, tmp, net, port, control_port, root_keys, name="unbound", addr_suffix=10,
                 override_date=None):
        self.addr = f"{net}.{addr_suffix}"
        self.port = port
        d = os.path.join(tmp, name)
        os.makedirs(d)
        self.dir = d
        hints = os.path.join(d, "root.hints")
        with open(hints, "w") as f:
            f.write(f". 3600000 IN NS ns.nic.\nns.nic. 3600000 IN A {net}.1\n")
        anchor = os.path.join(d, "root.anchor")
        with open(anchor, "w") as f:
            for k in ksk_records(root_keys):
                f.write(f". 3600 IN DNSKEY {k.to_text()}\n")
        # delv reads named.conf syntax.
        self.delv_anchor = os.path.join(d, "delv.anchors")
        with open(self.delv_anchor, "w") as f:
            f.write("trust-anchors {\n")
            for k in ksk_records(root_keys):
                key = base64.b64encode(k.key).decode()
                f.write(f'  . static-key {k.flags} {k.protocol} {int(k.algorithm)} "{key}";\n')
            f.write("};\n")
        self.conf = os.path.join(d, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write(f"""server:
    verbosity: 1
    interface: {self.addr}@{port}
    port: {port}
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    chroot: ""
    username: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    logfile: "{d}/unbound.log"
    use-syslog: no
    num-threads: 1
    do-not-query-localhost: no
    root-hints: "{hints}"
    trust-anchor-file: "{anchor}"
    module-config: "subnetcache validator iterator"
    send-client-subnet: {net}.3
    client-subnet-always-forward: yes
    max-client-subnet-ipv4: 24
    val-log-level: 2
    qname-minimisation: yes
    harden-dnssec-stripped: yes
    cache-max-negative-ttl: 5
{f'    val-override-date: "{override_date}"' if override_date else ""}
remote-control:
    control-enable: yes
    control-interface: {self.addr}
    control-port: {control_port}
    control-use-cert: no
""")
        check = subprocess.run(["unbound-checkconf", self.conf], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"unbound config rejected: {check.stdout}{check.stderr}")
        self.proc = Process(name, ["unbound", "-d", "-c", self.conf], os.path.join(d, "out"))

    def wait_ready(self, limit_s=20, validated=True):
        """Until the root's SOA comes back validated (or, validated=False, any answer)."""
        deadline = time.monotonic() + limit_s
        last = None
        while time.monotonic() < deadline:
            if not self.proc.alive():
                break
            last = try_query(self.addr, self.port, ".", dns.rdatatype.SOA, rd=True, timeout=1.0)
            if last is not None and (not validated or
                                     (last.rcode() == 0 and last.flags & dns.flags.AD)):
                return
            time.sleep(0.2)
        raise RuntimeError(f"unbound did not validate the root within {limit_s}s: "
                           f"{summary(last)}\n{self.log_text()}")

    def ask(self, name, rdtype, ecs=None):
        return try_query(self.addr, self.port, name, rdtype, rd=True, ecs=ecs, timeout=3.0)

    def control(self, *args):
        r = subprocess.run(["unbound-control", "-c", self.conf, *args], capture_output=True,
                           text=True, timeout=10)
        debug(f"unbound-control {' '.join(args)}: {r.stdout.strip()} {r.stderr.strip()}")
        if r.returncode != 0:
            raise RuntimeError(f"unbound-control {' '.join(args)} failed: {r.stdout}{r.stderr}")

    def flush(self, zone):
        self.control("flush_zone", zone)
        self.control("flush_bogus")
        self.control("flush_negative")
        self.control("flush_infra", "all")

    def delv(self, name, rdtype, *extra):
        r = subprocess.run(["delv", f"@{self.addr}", "-p", str(self.port), "-a",
                            self.delv_anchor, "+root=.", *extra, name, rdtype], capture_output=True,
                           text=True, timeout=30)
        out = (r.stdout + r.stderr).strip()
        debug(f"delv {name} {rdtype}: {out}")
        return out

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "unbound.log")) as f:
                return f.read()[-6000:]
        except OSError:
            return self.proc.log_text()


# ------------------------------------------------------------------------------------------------
# Checks


class Checks:
    def __init__(self):
        self.failed = []
        self.count = 0

    def expect(self, ok, what, detail=""):
        self.count += 1
        if ok:
            log(f"ok   {what}")
        else:
            self.failed.append(what)
            log(f"FAIL {what}: {detail}")
        return ok


def is_secure(msg):
    return msg is not None and bool(msg.flags & dns.flags.AD)


def as_expected(msg):
    """AD set for a signed child; for the unsigned rehearsal, clear (insecure, not bogus)."""
    return msg is not None and is_secure(msg) == SIGNED


def verdict():
    return "validates" if SIGNED else "is insecure (unsigned rehearsal)"


def delv_verdict(negative=False):
    return ("; negative response, " if negative else "; ") + \
        ("fully validated" if SIGNED else "unsigned answer")


def check_secure_answer(checks, res, name, rdtype, want, ecs=None, label=None, settle_s=0.0):
    """NOERROR, AD, and exactly `want` (sorted address or target strings) in the answer.
    settle_s: after a health change, a validated answer that still names the old address is
    asked again (flushing Unbound) for up to that long; an answer that fails validation is
    never retried."""
    t = dns.rdatatype.from_text(rdtype)
    deadline = time.monotonic() + settle_s
    while True:
        r = res.ask(name, rdtype, ecs=ecs)
        got = addresses(r, t) if r is not None else None
        valid = r is not None and r.rcode() == dns.rcode.NOERROR and as_expected(r)
        if not valid or got == sorted(want) or time.monotonic() >= deadline:
            break
        debug(f"{name} {rdtype}: still {got}, asking again")
        time.sleep(0.5)
        res.flush(CHILD)
    ok = valid and got == sorted(want)
    checks.expect(ok, label or f"{name} {rdtype}{' ECS ' + ecs if ecs else ''} {verdict()} "
                  f"with {want}", summary(r))
    return r


def check_delv(checks, res, name, rdtype, want_value, label=None, settle_s=0.0):
    """delv's verdict, and want_value in its output; settle_s as in check_secure_answer."""
    deadline = time.monotonic() + settle_s
    while True:
        out = res.delv(name, rdtype)
        valid = delv_verdict() in out
        if not valid or want_value is None or want_value in out or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
        res.flush(CHILD)
    ok = valid and (want_value is None or want_value in out)
    checks.expect(ok, label or f"delv {name} {rdtype}: {delv_verdict()[2:]}"
                  f"{' with ' + want_value if want_value else ''}", out)


def check_denial(checks, res, name, rdtype, allow_compact):
    """NXDOMAIN (or, for compact denial, NOERROR without answer) with AD."""
    r = res.ask(name, rdtype)
    if r is None:
        return checks.expect(False, f"{name} {rdtype} NXDOMAIN {verdict()}", "no answer")
    rcode = r.rcode()
    empty = not [x for x in r.answer if x.rdtype == dns.rdatatype.from_text(rdtype)]
    ok = as_expected(r) and empty and (rcode == dns.rcode.NXDOMAIN or
                                     (allow_compact and rcode == dns.rcode.NOERROR))
    compact = " (or compact NODATA)" if allow_compact else ""
    return checks.expect(ok, f"{name} {rdtype} NXDOMAIN{compact} {verdict()}", summary(r))


def check_common(checks, res, net, allow_compact, static_name="static"):
    """What every child must get right through Unbound."""
    c = CHILD
    check_secure_answer(checks, res, f"{static_name}.{c}", "A", ["192.0.2.1"])
    check_secure_answer(checks, res, f"{static_name}.{c}", "AAAA", ["2001:db8::1"])
    check_denial(checks, res, f"nonexistent.{c}", "A", allow_compact)
    r = res.ask(f"{static_name}.{c}", "MX")
    checks.expect(r is not None and r.rcode() == 0 and not r.answer and as_expected(r),
                  f"{static_name}.{c} MX NODATA {verdict()}", summary(r))
    check_secure_answer(checks, res, f"anything.wild.{c}", "A", ["192.0.2.20"],
                        label=f"wildcard anything.wild A {verdict()} with 192.0.2.20")
    r = res.ask(f"alias.{c}", "A")
    cname = answer_rrset(r, f"alias.{c}", dns.rdatatype.CNAME) if r is not None else None
    checks.expect(r is not None and r.rcode() == 0 and as_expected(r) and cname is not None,
                  f"CNAME alias A {verdict()} (CNAME and target)", summary(r))
    # The insecure delegation: the absence of its DS is proven (AD on the DS NODATA) and the
    # grandchild's data comes back unvalidated but not bogus.
    r = res.ask(GRANDCHILD, "DS")
    checks.expect(r is not None and r.rcode() == 0 and not r.answer and as_expected(r),
                  f"DS {GRANDCHILD} absence {verdict()} (NODATA)", summary(r))
    r = res.ask(f"host.{GRANDCHILD}", "A")
    checks.expect(r is not None and r.rcode() == 0 and addresses(r) == ["192.0.2.30"] and
                  not is_secure(r), f"host.{GRANDCHILD} A is insecure: answer, no AD, not SERVFAIL",
                  summary(r))
    check_delv(checks, res, f"{static_name}.{c}", "A", "192.0.2.1")
    check_delv(checks, res, f"anything.wild.{c}", "A", "192.0.2.20")
    out = res.delv(f"nonexistent.{c}", "A")
    checks.expect(delv_verdict(negative=True) in out,
                  f"delv nonexistent.{c} A: {delv_verdict(negative=True)[2:]}", out)


def check_broken(checks, res, name):
    """After the child's keys changed behind the parent's back: bogus everywhere."""
    r = res.ask(name, "A")
    checks.expect(r is not None and r.rcode() == dns.rcode.SERVFAIL,
                  f"{name} A with a key the parent's DS does not match: SERVFAIL", summary(r))
    # delv 9.18 asks without CD, so here it hears Unbound's SERVFAIL; what it validates itself
    # from the root key is the positive cases.
    out = res.delv(name, "A")
    checks.expect("; fully validated" not in out and "resolution failed" in out,
                  f"delv {name} A: resolution failed, not validated", out)


# ------------------------------------------------------------------------------------------------
# The chain


class Chain:
    """Root and parent on Knot, Unbound on top; the child is started by the caller."""

    def __init__(self, tmp, rng, net):
        self.tmp, self.rng, self.net = tmp, rng, net
        self.procs = []
        self.resolver = None

    def start_parents(self, child_ds):
        net = self.net
        parent = start_knot(self.tmp, "parent", [f"{net}.2", f"{net}.4"], {
            "example.": (parent_zone(net, child_ds), True),
            GRANDCHILD: (grandchild_zone(net), False),
        })
        self.procs.append(parent)
        example_keys = wait_signed(f"{net}.2", "example.")
        root = start_knot(self.tmp, "root", [f"{net}.1"],
                          {".": (root_zone(net, ds_records("example.", example_keys)), True)})
        self.procs.append(root)
        root_keys = wait_signed(f"{net}.1", ".")
        self.root_keys = root_keys
        port = free_port(self.rng, f"{net}.10")
        control = free_port(self.rng, f"{net}.10")
        self.resolver = Resolver(self.tmp, net, port, control, root_keys)
        self.procs.append(self.resolver.proc)
        self.resolver.wait_ready()
        log(f"chain up: root {net}.1, example. {net}.2, {CHILD} {net}.3, {GRANDCHILD} {net}.4,"
            f" unbound {self.resolver.addr}:{port}")

    def skewed_resolver_rejects(self, checks, name):
        """A second Unbound whose clock runs 30 days ahead (val-override-date): every signature
        has expired for it (14-day validity), so it must answer SERVFAIL: clock skew, seen."""
        net = self.net
        ahead = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 30 * 86400))
        port = free_port(self.rng, f"{net}.11")
        skewed = Resolver(self.tmp, net, port, free_port(self.rng, f"{net}.11"), self.root_keys,
                          name="unbound-skewed", addr_suffix=11, override_date=ahead)
        self.procs.append(skewed.proc)
        skewed.wait_ready(validated=False)
        r = skewed.ask(name, "A")
        log_text = skewed.log_text()
        checks.expect(r is not None and r.rcode() == dns.rcode.SERVFAIL and
                      "signature expired" in log_text,
                      f"{name} A to a resolver 30 days ahead: SERVFAIL, 'signature expired' logged",
                      f"{summary(r)}\n{log_text}")
        skewed.proc.stop()

    def stop(self):
        for p in reversed(self.procs):
            p.stop()

    def dump_logs(self):
        for p in self.procs:
            log(f"---- {p.name} log ({p.log_path})")
            log(p.log_text()[-4000:])
        if self.resolver is not None:
            log("---- unbound.log (tail)")
            log(self.resolver.log_text())


def step_knot(chain, checks):
    """Step A: a Knot-signed child proves the chain, the resolver and the checks."""
    net = chain.net
    child = start_knot(chain.tmp, "child", [f"{net}.3"], {CHILD: (knot_child_zone(net), True)})
    chain.procs.append(child)
    child_keys = wait_signed(f"{net}.3", CHILD)
    chain.start_parents(ds_records(CHILD, child_keys))
    check_common(checks, chain.resolver, net, allow_compact=False)
    chain.skewed_resolver_rejects(checks, f"static.{CHILD}")

    # Negative control: new keys for the child (a fresh key database), DS in the parent unchanged.
    old_tags = {dns.dnssec.key_id(k) for k in ksk_records(child_keys)}
    child.stop()
    shutil.rmtree(os.path.join(chain.tmp, "child", "db"))
    child = start_knot(chain.tmp, "child", [f"{net}.3"], {CHILD: (knot_child_zone(net), True)})
    chain.procs.append(child)
    wait_signed(f"{net}.3", CHILD, not_tags=old_tags)
    chain.resolver.flush(CHILD)
    check_broken(checks, chain.resolver, f"static.{CHILD}")


# ---- step B: geodns as the child -------------------------------------------------------------


class Backend:
    """A TCP listener a datacenter's health check connects to; stop() makes it fail."""

    def __init__(self, addr, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(64)
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except OSError:
                return

    def stop(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def dc_address(net, dc):
    return f"{net}.{21 + DATACENTERS.index(dc)}"


def geodns_child_zone(net, check_port):
    c = CHILD
    dcs = "".join(f"""
[datacenters.{dc}]
addresses = ["{dc_address(net, dc)}"]
check = "up"
""" for dc in DATACENTERS)
    return f"""[zone]
name = "{c}"
ttl = 5
dnssec = true

[zone.soa]
mname = "ns.{c}"
rname = "hostmaster.{c}"
refresh = "1m"
retry = "30s"
expire = "1h"
minimum = "5s"

[records]
"@" = {{ ttl = 60, rr = "NS ns.{c}" }}
ns = {{ ttl = 60, rr = "A {net}.3" }}
static = ["A 192.0.2.1", "AAAA 2001:db8::1"]
"*.wild" = "A 192.0.2.20"
alias = "CNAME www"
insecure = {{ ttl = 60, rr = "NS ns.{GRANDCHILD}" }}
"ns.insecure" = {{ ttl = 60, rr = "A {net}.4" }}
{dcs}
[checks.up]
type = "tcp"
port = {check_port}
interval = "1s"
timeout = "500ms"
fall = 1
rise = 1

[steer.www]
ttl = 2
policy = "geo"
answers = 1
map.EU = ["fra", "iad"]
map.NA = ["iad", "fra"]
map.AS = ["sin", "fra"]
map.SA = ["gru", "iad"]
map.OC = ["sin", "iad"]
map.default = ["iad", "fra"]
"""


def geodns_has_dnssec(binary):
    r = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return "dnssec" in (r.stdout + r.stderr)


def run_geodns_cli(binary, args):
    r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)
    debug(f"geodns {' '.join(args)} -> {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
    if r.returncode != 0:
        raise RuntimeError(f"geodns {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


class Keys:
    """The child's keys: `geodns dnssec keygen` / `geodns dnssec ds` (the default), or, with
    --keygen ldns, ldns-keygen's BIND-format files in the key directory (the interoperability
    the key format promises) and the DS computed here from the .key file."""

    def __init__(self, how, binary, conf, directory):
        self.how, self.binary, self.conf, self.directory = how, binary, conf, directory

    def generate(self):
        if self.how == "geodns":
            run_geodns_cli(self.binary, ["dnssec", "keygen", "--config", self.conf, CHILD])
            return
        r = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", CHILD.rstrip(".")],
                           cwd=self.directory, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"ldns-keygen failed: {r.stdout}{r.stderr}")
        for f in os.listdir(self.directory):
            if f.endswith(".ds"):  # ldns's own DS file: ours is computed below
                os.unlink(os.path.join(self.directory, f))

    def ds_text(self):
        if self.how == "geodns":
            return run_geodns_cli(self.binary, ["dnssec", "ds", "--config", self.conf, CHILD])
        out = ""
        for f in sorted(os.listdir(self.directory)):
            if f.endswith(".key"):
                with open(os.path.join(self.directory, f)) as kf:
                    fields = kf.read().split(";", 1)[0].split()
                i = fields.index("DNSKEY")
                key = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                          " ".join(fields[i + 1:]))
                out += f"{CHILD} IN DS {dns.dnssec.make_ds(CHILD, key, 'SHA256').to_text()}\n"
        return out


def parse_ds(text):
    """The DS records in `geodns dnssec ds` output (zone-file lines; comments ignored)."""
    out = []
    for line in text.splitlines():
        fields = line.split(";", 1)[0].split()
        if "DS" in fields:
            i = fields.index("DS")
            out.append(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS,
                                           " ".join(fields[i + 1:])))
    return out


def steered(res, ecs):
    r = res.ask(f"www.{CHILD}", "A", ecs=ecs)
    return r, (addresses(r) if r is not None else [])


def wait_direct(net, ecs, want, limit_s=15):
    """geodns itself (not through Unbound) answers `want` for this client."""
    deadline = time.monotonic() + limit_s
    got = None
    while time.monotonic() < deadline:
        r = try_query(f"{net}.3", 53, f"www.{CHILD}", dns.rdatatype.A, do=False, ecs=ecs,
                      timeout=0.5)
        got = addresses(r) if r is not None else None
        if got == [want]:
            return True
        time.sleep(0.2)
    debug(f"geodns gave {got} for {ecs}, want {want}")
    return False


def wait_serving(addr, zone, limit_s=20):
    """Until the server answers the zone's SOA (the unsigned rehearsal's readiness)."""
    deadline = time.monotonic() + limit_s
    last = None
    while time.monotonic() < deadline:
        last = try_query(addr, 53, zone, dns.rdatatype.SOA, do=False, timeout=0.5)
        if last is not None and last.rcode() == 0 and last.answer:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{zone} not served on {addr} within {limit_s}s: {summary(last)}")


def step_geodns(chain, checks, binary, keygen):
    """Step B: geodns is the child, signing online; steered answers through Unbound with ECS."""
    net = chain.net
    d = os.path.join(chain.tmp, "geodns")
    zones = os.path.join(d, "zones")
    keys = os.path.join(d, "keys")
    os.makedirs(zones)
    os.makedirs(keys, mode=0o700)
    check_port = free_port(chain.rng, dc_address(net, "fra"))
    backends = {dc: Backend(dc_address(net, dc), check_port) for dc in DATACENTERS}
    try:
        zone_text = geodns_child_zone(net, check_port)
        if not SIGNED:
            zone_text = zone_text.replace("\ndnssec = true\n", "\n")
        with open(os.path.join(zones, "geo.example.toml"), "w") as f:
            f.write(zone_text)
        conf = os.path.join(d, "geodns.toml")
        with open(conf, "w") as f:
            f.write(f"""[server]
listen = ["{net}.3:53"]
threads = 1
zones = "zones"
geoip = "{os.path.join(REPO, 'geoip', 'demo.mmdb')}"
log_level = "info"

[control]
listen = ""
""" + ("""
[dnssec]
key_directory = "keys"
""" if SIGNED else ""))
        child_ds = []
        keys_of = Keys(keygen, binary, conf, keys)
        if SIGNED:
            keys_of.generate()
            ds_text = keys_of.ds_text()
            child_ds = parse_ds(ds_text)
            if not checks.expect(bool(child_ds), f"the DS of the child's key ({keygen})", ds_text):
                return
        run_geodns_cli(binary, ["check", "--config", conf])
        server = Process("geodns", [binary, "serve", "--config", conf], os.path.join(d, "log"))
        chain.procs.append(server)
        served = []
        if SIGNED:
            served = wait_signed(f"{net}.3", CHILD)
            checks.expect({ds.to_text() for ds in ds_records(CHILD, served)} ==
                          {ds.to_text() for ds in child_ds},
                          f"the DS ({keygen}) matches the DNSKEY geodns serves",
                          f"printed {[x.to_text() for x in child_ds]}, served "
                          f"{[x.to_text() for x in ds_records(CHILD, served)]}")
        else:
            wait_serving(f"{net}.3", CHILD)
        chain.start_parents(child_ds)
        res = chain.resolver
        for continent, (subnet, dc) in CLIENTS.items():
            wait_direct(net, subnet, dc_address(net, dc))
        check_common(checks, res, net, allow_compact=True)
        if SIGNED:
            chain.skewed_resolver_rejects(checks, f"www.{CHILD}")
        for continent, (subnet, dc) in CLIENTS.items():
            check_secure_answer(checks, res, f"www.{CHILD}", "A", [dc_address(net, dc)],
                                ecs=subnet, label=f"steered www A for a {continent} client "
                                f"({subnet}/24) {verdict()} with {dc}")
        check_delv(checks, res, f"www.{CHILD}", "A", dc_address(net, "iad"),
                   label=f"delv www A (default client): {delv_verdict()[2:]} with iad")

        # iad's backend fails: NA and default clients move to fra, signed online again.
        backends["iad"].stop()
        moved = wait_direct(net, CLIENTS["NA"][0], dc_address(net, "fra"))
        checks.expect(moved, "geodns stops answering iad once its backend fails",
                      "still iad after 15 s")
        time.sleep(2.5)  # the steered TTL: what Unbound cached has expired
        res.flush(CHILD)
        check_secure_answer(checks, res, f"www.{CHILD}", "A", [dc_address(net, "fra")],
                            ecs=CLIENTS["NA"][0], settle_s=6,
                            label=f"after iad fails, www A for the NA client {verdict()} with fra")
        check_secure_answer(checks, res, f"www.{CHILD}", "A", [dc_address(net, "fra")],
                            ecs=CLIENTS["EU"][0], settle_s=6,
                            label=f"and the EU client still gets fra ({verdict()})")
        check_delv(checks, res, f"www.{CHILD}", "A", dc_address(net, "fra"), settle_s=6,
                   label=f"delv www A after the failure: {delv_verdict()[2:]} with fra")
        if not SIGNED:
            return

        # Negative control: the zone re-signed with new keys the parent's DS does not name.
        server.stop()
        shutil.rmtree(keys)
        os.makedirs(keys, mode=0o700)
        keys_of.generate()
        server = Process("geodns-rekeyed", [binary, "serve", "--config", conf],
                         os.path.join(d, "log2"))
        chain.procs.append(server)
        wait_signed(f"{net}.3", CHILD, not_tags={dns.dnssec.key_id(k)
                                                 for k in ksk_records(served)})
        res.flush(CHILD)
        check_broken(checks, res, f"static.{CHILD}")
    finally:
        for b in backends.values():
            b.stop()


# ------------------------------------------------------------------------------------------------


def main():
    global VERBOSE, SIGNED
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", choices=("knot", "geodns", "geodns-unsigned"), required=True)
    ap.add_argument("geodns", nargs="?", help="the geodns binary (with --child geodns)")
    ap.add_argument("--keygen", choices=("geodns", "ldns"), default="geodns",
                    help="who makes the geodns child's keys (default: geodns dnssec keygen)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    SIGNED = args.child != "geodns-unsigned"
    for tool in ("knotd", "knotc", "unbound", "unbound-control", "unbound-checkconf", "delv"):
        if shutil.which(tool) is None:
            log(f"FAIL: {tool} not found (scripts/install-deps.sh installs knot, unbound, "
                "bind9-dnsutils)")
            return 1
    if args.child.startswith("geodns"):
        if not args.geodns or not os.access(args.geodns, os.X_OK):
            log(f"FAIL: no geodns binary at {args.geodns}")
            return 1
        if SIGNED and args.keygen == "geodns" and not geodns_has_dnssec(args.geodns):
            log(f"SKIP: {args.geodns} has no `dnssec` command yet (keygen/ds, issue 13); "
                "step B runs as soon as it does")
            return SKIP
    if os.geteuid() != 0:
        log("FAIL: needs root to serve port 53 on 127.A.B.x loopback addresses")
        return 1

    rng = random.Random()
    tmp = tempfile.mkdtemp(prefix="geodns-dnssec-chain-")
    checks = Checks()
    chain = Chain(tmp, rng, pick_network(rng))
    try:
        if args.child == "knot":
            step_knot(chain, checks)
        else:
            step_geodns(chain, checks, args.geodns, args.keygen)
    except Exception as e:  # a set-up failure: report it with the servers' logs
        checks.expect(False, "chain set-up", f"{type(e).__name__}: {e}")
    finally:
        if checks.failed:
            chain.dump_logs()
        chain.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    log(f"{checks.count - len(checks.failed)} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
