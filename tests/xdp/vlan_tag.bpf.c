// tc programs that make a plain veth end behave like a Linux VLAN device on VLAN 100, for
// xdp_vlan_integration.sh on kernels without 8021q: `vlan_push` (egress) tags every frame
// the kernel sends, `vlan_pop` (ingress, which runs after XDP) takes the tag off frames that
// carry exactly kTci and drops every other frame, tagged otherwise or untagged. So on the
// client, an answer reaches dig only if it came back with the query's tag, PCP and DEI
// included; on the server, what the XDP program passes (TCP, ARP, neighbour discovery)
// reaches the kernel as if through its VLAN device.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// PCP 5, DEI 1, VID 100.
#define TEST_TCI ((5 << 13) | (1 << 12) | 100)

SEC("tc")
int vlan_push(struct __sk_buff* skb) {
  if (skb->vlan_present) return TC_ACT_SHOT;  // nothing here sends tagged frames itself
  if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), TEST_TCI) != 0) return TC_ACT_SHOT;
  return TC_ACT_OK;
}

SEC("tc")
int vlan_pop(struct __sk_buff* skb) {
  // The receiving kernel has moved the outer tag out of the frame into the skb (vlan_tci)
  // before tc runs; a frame that arrived untagged has none.
  if (!skb->vlan_present || skb->vlan_proto != bpf_htons(ETH_P_8021Q)) return TC_ACT_SHOT;
  if (skb->vlan_tci != TEST_TCI) return TC_ACT_SHOT;
  if (bpf_skb_vlan_pop(skb) != 0) return TC_ACT_SHOT;
  return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
