# Sourced by the XDP tests and bench/xdp.sh: two network namespaces joined by a veth pair.
#   rig_up TAG      -> RIG_SRV RIG_CLI (namespaces), RIG_SRV_IF RIG_CLI_IF (veth ends),
#                      RIG_SRV4 RIG_CLI4 RIG_SRV6 RIG_CLI6 (addresses)
#   rig_down        removes both namespaces (the veth pair goes with them); safe to repeat.
# Needs root. Pitfalls measured on veth (issue 15): the client's TX checksum offload must be
# off, or its UDP checksums arrive partial in the AF_XDP socket (nobody completes them); and
# with XDP on one end, the peer's TSO is turned off by the kernel (harmless here). VLAN tags
# reach XDP only inside the frame: with the sender's tx-vlan-offload on, a tag rides beside
# the frame and XDP sees it untagged (xdp_vlan_integration.sh turns it off where it tags).

rig_up() {
  local tag=$1
  RIG_SRV=gdx-s-$tag
  RIG_CLI=gdx-c-$tag
  RIG_SRV_IF=gdxs$tag
  RIG_CLI_IF=gdxc$tag
  RIG_SRV4=10.231.0.1
  RIG_CLI4=10.231.0.2
  RIG_SRV6=fd00:231::1
  RIG_CLI6=fd00:231::2
  ip netns add "$RIG_SRV" || return 1
  ip netns add "$RIG_CLI" || return 1
  ip link add "$RIG_SRV_IF" netns "$RIG_SRV" type veth peer name "$RIG_CLI_IF" netns "$RIG_CLI" ||
    return 1
  ip -n "$RIG_SRV" link set lo up
  ip -n "$RIG_CLI" link set lo up
  ip -n "$RIG_SRV" addr add "$RIG_SRV4/24" dev "$RIG_SRV_IF"
  ip -n "$RIG_CLI" addr add "$RIG_CLI4/24" dev "$RIG_CLI_IF"
  ip -n "$RIG_SRV" addr add "$RIG_SRV6/64" dev "$RIG_SRV_IF" nodad
  ip -n "$RIG_CLI" addr add "$RIG_CLI6/64" dev "$RIG_CLI_IF" nodad
  ip -n "$RIG_SRV" link set "$RIG_SRV_IF" up
  ip -n "$RIG_CLI" link set "$RIG_CLI_IF" up
  ip netns exec "$RIG_CLI" ethtool -K "$RIG_CLI_IF" tx off >/dev/null || return 1
}

rig_down() {
  [[ -n "${RIG_SRV:-}" ]] && ip netns del "$RIG_SRV" 2>/dev/null
  [[ -n "${RIG_CLI:-}" ]] && ip netns del "$RIG_CLI" 2>/dev/null
  return 0
}
