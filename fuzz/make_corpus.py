#!/usr/bin/env python3
"""Writes the seed corpora: fuzz/corpus/pipeline (DNS queries, well-formed and not) and
fuzz/corpus/zone (the demo zones plus small variants). Deterministic; rerun after changing it:
    python3 fuzz/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def name(dotted):
    out = b""
    for label in dotted.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def opt(payload=1232, version=0, do=False, options=b"", ext_rcode=0):
    flags = 0x8000 if do else 0
    return (b"\0" + struct.pack(">HHBBHH", 41, payload, ext_rcode, version, flags, len(options))
            + options)


def ecs(family, source, scope, addr):
    body = struct.pack(">HBB", family, source, scope) + addr
    return struct.pack(">HH", 8, len(body)) + body


def cookie(client, server=b""):
    body = client + server
    return struct.pack(">HH", 10, len(body)) + body


def query(qname, qtype, qclass=1, qid=0x1234, flags=0x0100, edns=None, qdcount=1, extra=b"",
          ancount=0, nscount=0, arcount=None):
    if arcount is None:
        arcount = 1 if edns is not None else 0
    hdr = struct.pack(">HHHHHH", qid, flags, qdcount, ancount, nscount, arcount)
    q = name(qname) + struct.pack(">HH", qtype, qclass) if qdcount else b""
    return hdr + q + extra + (edns if edns is not None else b"")


def pipeline_seeds():
    s = {}
    types = {"a": 1, "ns": 2, "cname": 5, "soa": 6, "ptr": 12, "hinfo": 13, "mx": 15, "txt": 16,
             "aaaa": 28, "srv": 33, "dname": 39, "ds": 43, "rrsig": 46, "any": 255, "caa": 257,
             "axfr": 252, "ixfr": 251, "maila": 254, "opt": 41, "tsig": 250, "type65000": 65000}
    for tname, t in types.items():
        s["www_" + tname] = query("www.example.com", t)
        s["apex_" + tname] = query("example.com", t, edns=opt())
    s["alias_a"] = query("alias.example.com", 1)
    s["mail_mx"] = query("example.com", 15, edns=opt(4096))
    s["srv"] = query("_sip._tcp.example.com", 33)
    s["wild_txt"] = query("foo.wild.example.com", 16)
    s["ent"] = query("b.c.example.com", 1)
    s["nx"] = query("nope.example.com", 1)
    s["referral"] = query("host.sub.example.com", 1)
    s["ds_at_cut"] = query("sub.example.com", 43)
    s["long_txt_tcp"] = query("long._domainkey.example.com", 16)
    s["ptr"] = query("10.2.0.192.in-addr.arpa", 12)
    s["refused"] = query("www.example.org", 1)
    s["root"] = query(".", 2)
    s["mixed_case"] = query("WwW.ExAmPlE.CoM", 1)
    s["chaos_version"] = query("version.bind", 16, qclass=3)
    s["chaos_id"] = query("id.server", 16, qclass=3)
    s["class_none"] = query("www.example.com", 1, qclass=254)
    s["edns_512"] = query("www.example.com", 1, edns=opt(512))
    s["edns_100"] = query("www.example.com", 28, edns=opt(100))
    s["edns_64k_do"] = query("example.com", 255, edns=opt(65535, do=True))
    s["edns_badvers"] = query("www.example.com", 1, edns=opt(version=1))
    s["ecs_v4_24"] = query("www.example.com", 1, edns=opt(options=ecs(1, 24, 0, bytes([81, 2, 69]))))
    s["ecs_v4_32"] = query("www.example.com", 1, edns=opt(options=ecs(1, 32, 0, bytes([8, 8, 8, 8]))))
    s["ecs_v4_0"] = query("www.example.com", 1, edns=opt(options=ecs(1, 0, 0, b"")))
    s["ecs_v6_56"] = query("www.example.com", 28,
                           edns=opt(options=ecs(2, 56, 0, bytes.fromhex("2a0104f8000000"))))
    s["ecs_v6_mapped"] = query("www.example.com", 1, edns=opt(
        options=ecs(2, 120, 0, bytes.fromhex("00000000000000000000ffff510245"))))
    s["ecs_bad_family"] = query("www.example.com", 1, edns=opt(options=ecs(7, 24, 0, b"\1\2\3")))
    s["ecs_bad_prefix"] = query("www.example.com", 1, edns=opt(options=ecs(1, 40, 0, b"\1\2\3\4\5")))
    s["ecs_scope_nonzero"] = query("www.example.com", 1, edns=opt(options=ecs(1, 24, 8, b"\1\2\3")))
    s["ecs_trailing_bits"] = query("www.example.com", 1, edns=opt(options=ecs(1, 20, 0, b"\1\2\3")))
    s["cookie_client"] = query("www.example.com", 1, edns=opt(options=cookie(b"\xaa" * 8)))
    s["cookie_server"] = query("www.example.com", 1,
                               edns=opt(options=cookie(b"\xaa" * 8, b"\xbb" * 16)))
    s["cookie_bad_len"] = query("www.example.com", 1, edns=opt(options=cookie(b"\xaa" * 5)))
    s["ecs_and_cookie"] = query("www.example.com", 1, edns=opt(
        options=ecs(1, 24, 0, bytes([81, 2, 69])) + cookie(b"\x11" * 8)))
    s["two_opts"] = query("www.example.com", 1, edns=opt() + opt(), arcount=2)
    s["opcode_notify"] = query("example.com", 6, flags=0x2000)
    s["opcode_update"] = query("example.com", 6, flags=0x2800)
    s["qr_set"] = query("www.example.com", 1, flags=0x8100)
    s["qdcount0"] = query("www.example.com", 1, qdcount=0)
    s["qdcount2"] = struct.pack(">HHHHHH", 1, 0, 2, 0, 0, 0) + (name("a.example.com") + b"\0\1\0\1") * 2
    s["ancount1"] = query("www.example.com", 1, ancount=1,
                          extra=b"\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\1\2\3\4")
    s["short_header"] = b"\x12\x34\x01\x00\x00"
    s["header_only"] = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    s["truncated_name"] = struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\x03www\x07exam"
    s["compressed_qname"] = struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\xc0\x0c\0\1\0\1"
    s["label_64"] = struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\0\0\1\0\1"
    long_name = ".".join(["a" * 63] * 4)
    s["name_too_long"] = query(long_name, 1)
    s["name_max"] = query(".".join(["b" * 63] * 3 + ["c" * 61]), 1)
    s["trailing_garbage"] = query("www.example.com", 1) + b"\xde\xad\xbe\xef"
    s["opt_truncated"] = query("www.example.com", 1, arcount=1) + b"\0\0\x29\x04"
    s["opt_rdlen_overrun"] = query("www.example.com", 1, arcount=1) + b"\0\0\x29\x04\xd0\0\0\0\0\0\x40"
    s["opt_nonroot_owner"] = query("www.example.com", 1, arcount=1) + name("x") + opt()[1:]
    s["empty"] = b""
    # DNSSEC: a first byte selecting DO (1) and CO (2) in front of a query for the signed zone
    # of fuzz_pipeline.cpp (the target adds the OPT record itself).
    for label, (qname, qtype, flag) in {
            "do_static": ("mail.signed.fuzz", 1, 1), "do_dnskey": ("signed.fuzz", 48, 1),
            "do_steered": ("www.signed.fuzz", 1, 1), "do_geo_aaaa": ("geo.signed.fuzz", 28, 1),
            "do_nxdomain": ("nope.signed.fuzz", 1, 1), "do_co_nxdomain": ("nope.signed.fuzz", 1, 3),
            "do_nodata": ("mail.signed.fuzz", 15, 1), "do_ent": ("b.ent.signed.fuzz", 1, 1),
            "do_wildcard": ("x.wild.signed.fuzz", 1, 1), "do_cname": ("alias.signed.fuzz", 1, 1),
            "do_dname": ("x.d.signed.fuzz", 1, 1), "do_referral": ("x.deleg.signed.fuzz", 1, 1),
            "do_ds": ("deleg.signed.fuzz", 43, 1), "do_any": ("www.signed.fuzz", 255, 1)}.items():
        s[label] = bytes([flag]) + query(qname, qtype)
    return s


def zone_seeds():
    s = {}
    zdir = os.path.join(ROOT, "zones")
    for f in sorted(os.listdir(zdir)):
        if f.endswith(".toml"):
            with open(os.path.join(zdir, f), "rb") as fh:
                s[f[:-5]] = fh.read()
    soa = ('[zone.soa]\nmname = "ns1.fuzz.example."\nrname = "h.fuzz.example."\n'
           'refresh = "1h"\nretry = "10m"\nexpire = "14d"\nminimum = "60s"\n')
    base = '[zone]\nname = "fuzz.example."\nttl = 300\n' + soa
    s["minimal"] = (base + '[records]\n"@" = "NS ns1.fuzz.example."\nns1 = "A 192.0.2.1"\n').encode()
    s["no_name"] = ('[zone]\nttl = 60\n' + soa + '[records]\n"@" = "NS ns1"\n').encode()
    s["all_types"] = (base + """[records]
"@" = ["NS ns1", "MX 10 mail", 'TXT "a" "b"', 'CAA 0 issue "ca.example"', "HINFO cpu os"]
ns1 = ["A 192.0.2.1", "AAAA 2001:db8::1"]
mail = { ttl = 60, rr = "A 192.0.2.25" }
"_x._tcp" = "SRV 1 2 3 t.fuzz.example."
cname = "CNAME ns1"
"*.w" = "A 192.0.2.9"
d = "DNAME other.example."
ptr = "PTR ns1.fuzz.example."
sub = ["NS ns.sub", "DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE"]
"ns.sub" = "A 192.0.2.53"
""").encode()
    steer = """[datacenters.a]
addresses = ["192.0.2.10", "2001:db8::10"]
location = { lat = 50.1, lon = 8.6 }
check = "web"
[datacenters.b]
addresses = ["198.51.100.10"]
location = { lat = 38.9, lon = -77.4 }
weight = 3
[checks.web]
type = "tcp"
port = 80
interval = "1s"
timeout = "500ms"
fall = 2
rise = 1
"""
    for policy in ["geo", "nearest", "failover", "weighted", "roundrobin"]:
        extra = ""
        if policy == "geo":
            extra = 'map.EU = ["a", "b"]\nmap.default = ["b"]\nnets."203.0.113.0/24" = ["a"]\n'
        else:
            extra = 'datacenters = ["a", "b"]\n'
        s["steer_" + policy] = (base + '[records]\n"@" = "NS ns1"\nns1 = "A 192.0.2.1"\n' + steer
                                + '[steer.www]\nttl = 30\npolicy = "%s"\nanswers = 2\n%s'
                                % (policy, extra)).encode()
    s["bad_rr"] = (base + '[records]\nx = "A 999.1.1.1"\n').encode()
    s["bad_type"] = (base + '[records]\nx = "BOGUS 1"\n').encode()
    s["unknown_dc"] = (base + '[steer.www]\npolicy = "geo"\nmap.default = ["nope"]\n').encode()
    s["cname_and_a"] = (base + '[records]\nx = ["CNAME y", "A 192.0.2.1"]\n').encode()
    s["bad_toml"] = b'[zone\nname = "x.\n'
    s["unicode"] = (base + '[records]\n"caf\u00e9" = \'TXT "\u00fc\u00f1\u00ee"\'\n').encode()
    s["generic_rr"] = (base + '[records]\nx = "TYPE65000 \\\\# 4 01020304"\n').encode()
    return s


def write(subdir, seeds):
    d = os.path.join(HERE, "corpus", subdir)
    os.makedirs(d, exist_ok=True)
    for label, data in seeds.items():
        with open(os.path.join(d, label), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    write("pipeline", pipeline_seeds())
    write("zone", zone_seeds())
