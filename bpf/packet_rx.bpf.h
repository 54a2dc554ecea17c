/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, the receive path from the device to LOCAL_IN. Device and IP-receive
 * times wait in rx_pkt, keyed by skb->head (the data buffer, shared by clones such as the
 * one ip_rcv() makes when a packet socket holds a reference): netif_rx() only queues to a
 * CPU's backlog, which a later softirq, maybe on another CPU, hands to
 * __netif_receive_skb_core(). At LOCAL_IN the packet goes to its protocol's unit: TCP
 * segments with payload to packet_tcp_rx.bpf.h, datagrams to packet_udp_rx.bpf.h, echo
 * requests to packet_icmp.bpf.h; everything else (ACKs, SYN, FIN, RST, other ICMP) has
 * nothing more to wait for and is reported at once.
 */
struct rx_times {
	__u64 t_drv;
	__u64 t_rcv;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, __u64);              /* skb->head */
	__type(value, struct rx_times);
} rx_pkt SEC(".maps");

/*
 * Early, cheap test on the receive tracepoints, before any map update: is the packet of a
 * protocol we follow (and, with --sample, one of the 1 in N)? Drivers call
 * netif_rx()/napi_gro_receive() after eth_type_trans(), so skb->data is at the network
 * header. IPv6 extension headers are decided later.
 */
static __always_inline int rx_wanted(const struct sk_buff *skb)
{
	__u16 proto = bpf_ntohs(skb->protocol);
	unsigned char *data = skb->data;
	__u8 l4 = 0;

	if (proto == ETH_P_IP) {
		if (bpf_rdonly_cast)
			l4 = NW_CAST(struct iphdr, data)->protocol;
		else if (bpf_probe_read_kernel(&l4, 1, data + 9))
			return 0;
		return wanted(l4) && sampled(data, 4);
	}
	if (proto == ETH_P_IPV6) {
		if (bpf_rdonly_cast)
			l4 = NW_CAST(struct ipv6hdr, data)->nexthdr;
		else if (bpf_probe_read_kernel(&l4, 1, data + 6))
			return 0;
		if (l4 == 0 || l4 == 43 || l4 == 44 || l4 == 51 || l4 == 60)
			return sampled(data, 6);
		return wanted(l4) && sampled(data, 6);
	}
	return 0;
}

static __always_inline void rx_start(const struct sk_buff *skb)
{
	if (!rx_wanted(skb))
		return;
	__u64 key = (__u64)skb->head;
	struct rx_times t = {.t_drv = bpf_ktime_get_ns()};
	bpf_map_update_elem(&rx_pkt, &key, &t, BPF_ANY);
}

SEC("tp_btf/netif_rx")
int BPF_PROG(nw_pkt_netif_rx, struct sk_buff *skb)
{
	rx_start(skb);
	return 0;
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(nw_pkt_gro, const struct sk_buff *skb)
{
	rx_start(skb);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(nw_pkt_receive, struct sk_buff *skb)
{
	if (!rx_wanted(skb))
		return 0; /* not followed: no lookup */
	__u64 key = (__u64)skb->head;
	__u64 now = bpf_ktime_get_ns();
	struct rx_times *t = bpf_map_lookup_elem(&rx_pkt, &key);
	if (t) {
		t->t_rcv = now;
	} else {
		struct rx_times n = {.t_rcv = now};
		bpf_map_update_elem(&rx_pkt, &key, &n, BPF_ANY);
	}
	return 0;
}

static __always_inline void emit_rx_now(void *ctx, const struct nw_flow *flow, __u32 netns, const struct nw_l4 *l4,
					__u32 len, __u32 ifindex, __u64 t_drv, __u64 t_rcv, __u64 t_in, int skb_prog)
{
	int in_task = nw_aggregate != NW_AGG_ONLY && nw_in_task_context(ctx);
	struct packet_event *e = new_packet(t_in, in_task, skb_prog, NW_DIR_RX, flow, netns);
	if (!e)
		return;
	layer(e, NW_L_DRIVER, t_drv, t_rcv);
	layer(e, NW_L_IP, t_rcv, t_in);
	e->seq = l4->seq;
	e->ack = l4->ack;
	e->len = len;
	e->ifindex = ifindex;
	e->tcp_flags = l4->tcp_flags;
	e->icmp_type = l4->icmp_type;
	e->icmp_code = l4->icmp_code;
	publish(e);
}

/* A packet the LOCAL_IN hook accepted, on its way to TCP, UDP or ICMP. */
static __always_inline void pkt_in(void *ctx, struct sk_buff *skb, __u32 netns, __u32 ifindex, int skb_prog)
{
	if (!nf_wanted(skb))
		return;

	struct nw_flow flow = {};
	struct nw_l4 l4 = {};
	__u64 t_in = bpf_ktime_get_ns();
	__u64 t_drv = 0, t_rcv = 0;

	if (nw_flow_from_skb(&flow, &l4, skb) || !wanted(flow.proto))
		return;
	if (!pass_local(&flow, netns, NW_DIR_RX))
		return;
	__u64 head = (__u64)skb->head;
	struct rx_times *t = bpf_map_lookup_elem(&rx_pkt, &head);
	if (t) {
		t_drv = t->t_drv;
		t_rcv = t->t_rcv;
		bpf_map_delete_elem(&rx_pkt, &head);
	}
	__u32 len = nw_payload_len(skb, &l4);

	if (flow.proto == IPPROTO_TCP && len) {
		tcp_rx_append(&flow, netns, &l4, len, ifindex, t_drv, t_rcv, t_in);
		return;
	}
	if (flow.proto == IPPROTO_UDP) {
		struct udp_rx u = {.flow = flow, .netns = netns, .ifindex = ifindex, .len = len,
				   .t_drv = t_drv, .t_rcv = t_rcv, .t_in = t_in};
		udp_rx_arrived(head, &u);
		return;
	}
	if (icmp_is_request(&flow, &l4)) {
		struct icmp_req r = {.t_drv = t_drv, .t_rcv = t_rcv, .t_in = t_in, .ifindex = ifindex};
		icmp_note_request(&flow, &l4, netns, &r);
		return;
	}
	/* TCP without payload (ACK, SYN, FIN, RST) and other ICMP: nothing more to wait for. */
	emit_rx_now(ctx, &flow, netns, &l4, len, ifindex, t_drv, t_rcv, t_in, skb_prog);
	if (flow.proto == IPPROTO_TCP)
		add_totals(netns, &flow, NW_DIR_RX, 0);
}

SEC("netfilter")
int nw_pkt_in(struct bpf_nf_ctx *ctx)
{
	pkt_in(ctx, ctx->skb, ctx->state->net->ns.inum, ctx->state->in->ifindex, 1);
	return NF_ACCEPT;
}

/*
 * Kernels without netfilter BPF programs (before 6.4) but with fentry (6.1): the IP layer
 * hands a local packet to its protocol in ip_protocol_deliver_rcu() / ip6_protocol_deliver_rcu(),
 * called by ip_local_deliver_finish() / ip6_input_finish() once LOCAL_IN accepted it (after
 * defragmentation, as LOCAL_IN). The device is skb->dev, the hook's state->in.
 * ip6_protocol_deliver_rcu() walks extension headers in a loop, so one call per packet.
 */
SEC("fentry/ip_protocol_deliver_rcu")
int BPF_PROG(nw_pkt_in_f4, struct net *net, struct sk_buff *skb, int protocol)
{
	pkt_in(ctx, skb, BPF_CORE_READ(net, ns.inum), BPF_CORE_READ(skb, dev, ifindex), 0);
	return 0;
}

SEC("fentry/ip6_protocol_deliver_rcu")
int BPF_PROG(nw_pkt_in_f6, struct net *net, struct sk_buff *skb, int nexthdr, bool have_final)
{
	pkt_in(ctx, skb, BPF_CORE_READ(net, ns.inum), BPF_CORE_READ(skb, dev, ifindex), 0);
	return 0;
}
