// geodns's XDP program: sends DNS queries over UDP to our addresses and ports into the AF_XDP
// socket of the queue they arrived on, and passes everything else to the kernel's stack
// untouched (TCP, ARP, ICMP, other ports, fragments, IPv4 options, IPv6 extension headers,
// double VLAN tags, 802.1ad S-tags). Built by CMake with clang -target bpf and embedded in the
// geodns binary (server/xdp/xdp_program.cpp); user space fills `geodns_dests` and `geodns_xsks`.
//
// Only the first fragment of a datagram could carry the UDP header, and a reassembled
// datagram never reaches XDP: fragments are left to the kernel, whose socket path answers
// them. Likewise IPv4 options and IPv6 extension headers, rare in DNS queries, keep the
// user-space parser to fixed offsets.
//
// One 802.1Q tag (0x8100) is read through: a query on a VLAN is answered here with the same
// tag (server/xdp/frame.cpp). QinQ (a second tag) and 802.1ad S-tags (0x88a8) are left to
// the kernel's VLAN devices: rare in front of a DNS server, and an S-tag alone says nothing
// a single C-tag would not (docs/decisions.md). The user-space parser checks all of this
// again; this filter only decides what to take from the kernel.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// One served destination: family 4 or 6, the UDP port (network order) and the address
// (IPv4 in the first 4 bytes). An all-zero address is the wildcard ("0.0.0.0:53").
struct geodns_dest {
  __u8 family;
  __u8 pad;
  __u16 port;
  __u8 addr[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, struct geodns_dest);
  __type(value, __u8);
} geodns_dests SEC(".maps");

// Queue index -> AF_XDP socket (one per receive queue).
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u32);
} geodns_xsks SEC(".maps");

static __always_inline int served(struct geodns_dest* key) {
  if (bpf_map_lookup_elem(&geodns_dests, key)) return 1;
  __builtin_memset(key->addr, 0, sizeof(key->addr));
  return bpf_map_lookup_elem(&geodns_dests, key) != 0;
}

SEC("xdp")
int geodns_xdp(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return XDP_PASS;
  struct geodns_dest key = {};
  struct udphdr* udp;
  void* l3 = eth + 1;
  __be16 proto = eth->h_proto;
  if (proto == bpf_htons(ETH_P_8021Q)) {
    // The tag as on the wire (struct vlan_hdr is kernel-internal, not in the UAPI headers).
    struct {
      __be16 tci;
      __be16 proto;
    }* tag = l3;
    if ((void*)(tag + 1) > end) return XDP_PASS;
    // VID 4095 is reserved: the kernel drops it.
    if ((tag->tci & bpf_htons(0x0fff)) == bpf_htons(0x0fff)) return XDP_PASS;
    proto = tag->proto;  // a second tag (0x8100 or 0x88a8) falls to XDP_PASS below
    l3 = tag + 1;
  }
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = l3;
    if ((void*)(ip + 1) > end) return XDP_PASS;
    if (ip->ihl != 5 || ip->version != 4) return XDP_PASS;  // options: the kernel's
    if (ip->frag_off & bpf_htons(0x3fff)) return XDP_PASS;  // MF or an offset
    if (ip->protocol != IPPROTO_UDP) return XDP_PASS;
    udp = (void*)(ip + 1);
    if ((void*)(udp + 1) > end) return XDP_PASS;
    key.family = 4;
    __builtin_memcpy(key.addr, &ip->daddr, 4);
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = l3;
    if ((void*)(ip6 + 1) > end) return XDP_PASS;
    if (ip6->nexthdr != IPPROTO_UDP) return XDP_PASS;  // extension headers, fragments
    udp = (void*)(ip6 + 1);
    if ((void*)(udp + 1) > end) return XDP_PASS;
    key.family = 6;
    __builtin_memcpy(key.addr, &ip6->daddr, 16);
  } else {
    return XDP_PASS;
  }
  key.port = udp->dest;
  if (!served(&key)) return XDP_PASS;
  // No socket on this queue (yet, or any more): the kernel answers instead.
  return bpf_redirect_map(&geodns_xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
