/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_PROTO_H
#define NW_PROTO_H

/*
 * -p: packets and bytes per protocol, both directions, counted in the kernel (no record per
 * packet). The per-CPU array proto_counts has one slot per bucket:
 *   NW_PB_IPV4 + protocol (0-255), NW_PB_IPV6 + next header (0-255), NW_PB_ARP, NW_PB_OTHER.
 */
enum nw_proto_bucket {
	NW_PB_IPV4 = 0,
	NW_PB_IPV6 = 256,
	NW_PB_ARP = 512,
	NW_PB_OTHER = 513, /* any other ethertype (VLAN-tagged frames the NIC did not untag, LLDP, ...) */
	NW_PB_COUNT = 514,
};

/* dir 0: received (netif_receive_skb), 1: sent (net_dev_start_xmit). bytes: from the network header on. */
struct proto_count {
	__u64 packets[2];
	__u64 bytes[2];
};

#endif
