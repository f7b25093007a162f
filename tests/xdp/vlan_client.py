#!/usr/bin/python3
"""One DNS query in a hand-made Ethernet frame with 802.1Q tags, and the answer frame read back.

A VLAN client without the kernel's VLAN devices (this test's kernels may lack 8021q): the
frame is built here byte by byte (tags, IPv4 or IPv6, UDP with its checksum) and sent on an
AF_PACKET socket; the answer is picked from the same socket by address and port, and its tag
read from wherever the receiving kernel left it (in the frame, or moved into the packet's
metadata, which PACKET_AUXDATA reports). The DNS answer is decoded with dnspython, not ours.

usage: vlan_client.py IFACE DST_MAC SRC_IP DST_IP NAME QTYPE TAGS [TIMEOUT_S]
  TAGS: "-" for none, else comma-separated TPID/TCI pairs, outermost first, in hex
        ("8100/a064": TPID 0x8100, PCP 5, DEI 0, VID 100; "88a8/00c8,8100/0064": QinQ)
prints one JSON object: {"answered": false} or
  {"answered": true, "tags": [[tpid, tci], ...], "rcode": "NOERROR", "answers": ["1.2.3.4"]}
"""
import ipaddress
import json
import random
import select
import socket
import struct
import sys
import time

import dns.message
import dns.rcode
import dns.rdatatype

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_datagram(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!IxxxB", length, 17)
    header = struct.pack("!HHHH", sport, dport, length, 0)
    c = checksum(pseudo + header + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def ip_packet(src, dst, udp):
    if src.version == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.getrandbits(16), 0, 64,
                        17, 0, src.packed, dst.packed)
        h = h[:10] + struct.pack("!H", checksum(h)) + h[12:]
        return 0x0800, h + udp
    h = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64, src.packed, dst.packed)
    return 0x86DD, h + udp


def parse_tags(text):
    if text == "-":
        return []
    return [tuple(int(x, 16) for x in part.split("/")) for part in text.split(",")]


def strip_link(frame, aux_tag):
    """(tags outermost first, ethertype, L3 bytes) of a received frame."""
    tags = [aux_tag] if aux_tag else []
    at = 12
    ethertype = struct.unpack_from("!H", frame, at)[0]
    while ethertype in VLAN_TPIDS and len(frame) >= at + 6:
        tci = struct.unpack_from("!H", frame, at + 2)[0]
        tags.append((ethertype, tci))
        at += 4
        ethertype = struct.unpack_from("!H", frame, at)[0]
    return tags, ethertype, frame[at + 2:]


def main():
    iface, dst_mac, src_ip, dst_ip, name, qtype, tags_text = sys.argv[1:8]
    timeout = float(sys.argv[8]) if len(sys.argv) > 8 else 2.0
    src, dst = ipaddress.ip_address(src_ip), ipaddress.ip_address(dst_ip)
    src_mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
    query = dns.message.make_query(name, qtype, use_edns=False)
    query.flags &= ~0x0100  # no RD: an authoritative server
    sport = random.randint(20000, 60000)
    ethertype, l3 = ip_packet(src, dst, udp_datagram(src, dst, sport, 53, query.to_wire()))
    frame = bytes.fromhex(dst_mac.replace(":", "")) + src_mac
    for tpid, tci in parse_tags(tags_text):
        frame += struct.pack("!HH", tpid, tci)
    frame += struct.pack("!H", ethertype) + l3
    frame += b"\0" * max(0, 60 - len(frame))  # the Ethernet minimum, as a NIC pads

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.send(frame)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print(json.dumps({"answered": False}))
            return 0
        data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(20))
        if addr[2] == socket.PACKET_OUTGOING:
            continue  # our own query
        aux_tag = None
        for level, kind, value in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(value) >= 20:
                status, _, _, _, _, tci, tpid = struct.unpack_from("=IIIHHHH", value)
                if status & TP_STATUS_VLAN_VALID:
                    aux_tag = (tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci)
        tags, ethertype, l3 = strip_link(data, aux_tag)
        if ethertype == 0x0800 and len(l3) >= 28 and l3[9] == 17:
            ihl = (l3[0] & 15) * 4
            from_ip, to_ip = ipaddress.ip_address(l3[12:16]), ipaddress.ip_address(l3[16:20])
            udp = l3[ihl:]
        elif ethertype == 0x86DD and len(l3) >= 48 and l3[6] == 17:
            from_ip, to_ip = ipaddress.ip_address(l3[8:24]), ipaddress.ip_address(l3[24:40])
            udp = l3[40:]
        else:
            continue
        sp, dp, length = struct.unpack_from("!HHH", udp)
        if from_ip != dst or to_ip != src or sp != 53 or dp != sport:
            continue
        reply = dns.message.from_wire(udp[8:length])
        if reply.id != query.id:
            continue
        answers = [rd.to_text() for rrset in reply.answer for rd in rrset]
        print(json.dumps({"answered": True, "tags": tags, "rcode": dns.rcode.to_text(reply.rcode()),
                          "answers": answers}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
