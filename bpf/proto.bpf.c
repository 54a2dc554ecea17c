// SPDX-License-Identifier: GPL-2.0
/*
 * -p: the protocol share, every packet of every interface in both directions, whatever its
 * protocol: two counters per packet in a per-CPU array, no record, no lookup by flow. User
 * space reads the array each --interval and prints the difference.
 * rx: tracepoint net/netif_receive_skb, at the top of __netif_receive_skb_core(), after
 *     eth_type_trans() pulled the link-layer header (skb->data is the network header) and
 *     after GRO (a merged packet counts as its gso_segs packets).
 * tx: tracepoint net/net_dev_start_xmit, in dev_hard_start_xmit()'s xmit_one(), where
 *     skb->data is the link-layer header and skb->network_header is set.
 * Both exist on every kernel netwatcher supports; --netns applies (the device's namespace).
 */
#include "nw_skb.h"
#include "proto.h"

NW_BTF_EXPORT(proto_count);
NW_BTF_EXPORT_ENUM(nw_proto_bucket);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NW_PB_COUNT);
	__type(key, __u32);
	__type(value, struct proto_count);
} proto_counts SEC(".maps");

static __always_inline void proto_count(const struct sk_buff *skb, const unsigned char *l3, __u32 l3_len, int dir)
{
	__u16 eth = bpf_ntohs(skb->protocol);
	__u32 bucket;
	__u8 p = 0;

	if (nw_filter.netns && nw_skb_netns(skb, 0) != nw_filter.netns)
		return;
	if (eth == ETH_P_IP) {
		bpf_probe_read_kernel(&p, 1, l3 + 9);       /* struct iphdr: protocol */
		bucket = NW_PB_IPV4 + p;
	} else if (eth == ETH_P_IPV6) {
		bpf_probe_read_kernel(&p, 1, l3 + 6);       /* struct ipv6hdr: nexthdr */
		bucket = NW_PB_IPV6 + p;
	} else if (eth == 0x0806) {                         /* ETH_P_ARP */
		bucket = NW_PB_ARP;
	} else {
		bucket = NW_PB_OTHER;
	}
	struct proto_count *c = bpf_map_lookup_elem(&proto_counts, &bucket);
	if (!c)
		return;
	struct skb_shared_info *sh = nw_skb_shinfo(skb);
	__u16 segs = BPF_CORE_READ(sh, gso_size) ? BPF_CORE_READ(sh, gso_segs) : 1;
	dir &= 1;
	c->packets[dir] += segs ? segs : 1;
	c->bytes[dir] += l3_len;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(nw_proto_rx, struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	proto_count(skb, skb->data, skb->len, 0);
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(nw_proto_tx, struct sk_buff *skb, struct net_device *dev)
{
	NW_FLOOR_RETURN(0);
	unsigned char *head = skb->head;
	__u32 l2 = (__u32)(skb->data - head), nh = skb->network_header;
	__u32 len = skb->len;
	/* without a network header (a raw frame from a packet socket) the whole frame is counted */
	if (nh > l2 && nh - l2 < len)
		len -= nh - l2;
	else
		nh = l2;
	proto_count(skb, head + nh, len, 1);
	return 0;
}
