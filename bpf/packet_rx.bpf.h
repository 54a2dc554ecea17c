/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, the receive path from the device to LOCAL_IN. At LOCAL_IN the packet goes to
 * its protocol's unit: TCP segments with payload to packet_tcp_rx.bpf.h, datagrams to
 * packet_udp_rx.bpf.h, echo requests to packet_icmp.bpf.h; everything else (ACKs, SYN, FIN,
 * RST, other ICMP) has nothing more to wait for and is reported at once.
 *
 * Where a packet's device and IP-receive times wait, keyed by skb->head (the data buffer, shared
 * by clones such as the one ip_rcv() makes when a packet socket holds a reference):
 * - netif_rx() only queues the skb to a CPU's backlog, which a later softirq hands to
 *   __netif_receive_skb_core(). Without RPS that is this CPU's backlog (enqueue_to_backlog(skb,
 *   smp_processor_id())); a driver's napi_gro_receive() reaches netif_receive_skb on its CPU
 *   too. netif_receive_skb to LOCAL_IN is one softirq on one CPU. So the times wait in a
 *   per-CPU table of NW_RX_SLOTS stamps, slot = hash of skb->head: an array slot, no hash map
 *   update, lookup or delete per packet. Two packets in flight on one CPU in one slot: the
 *   later overwrites the earlier, which then lacks its device time (never takes another's).
 * - With RPS, netif_rx() may queue the packet to another CPU's backlog. netif_receive_skb then
 *   misses its stamp on its own CPU and looks for it in the other CPUs' tables
 *   (bpf_map_lookup_percpu_elem()): the CPU that stamped the last such packet first (RPS sends
 *   one device queue's packets from one CPU), then NW_RX_SCAN others per miss, in turn, so a
 *   miss costs a bounded number of lookups on a host of any size.
 */
struct rx_stamp {
	__u64 head;              /* skb->head; 0: free */
	__u64 t_drv;
	__u64 t_rcv;
};

#define NW_RX_STAMPS 256 /* a power of 2 */
#define NW_RX_SCAN 8

struct rx_stamps {
	struct rx_stamp s[NW_RX_STAMPS];
	__u32 hint;              /* the CPU whose table held the last stamp this CPU missed */
	__u32 scan;              /* where the next scan of other CPUs starts */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_stamps);
} rx_stamps SEC(".maps");

/* Another CPU's stamp for skb->head key in slot i: its device time taken, the stamp freed. */
static __always_inline int rx_stamp_on(__u32 cpu, __u32 i, __u64 key, __u64 *t_drv)
{
	__u32 zero = 0;
	struct rx_stamps *t = bpf_map_lookup_percpu_elem(&rx_stamps, &zero, cpu);

	if (!t)
		return -1; /* no such CPU */
	if (i >= NW_RX_STAMPS)
		return 0;
	struct rx_stamp *st = &t->s[i];
	/* volatile: both reads of head must happen, around the read of t_drv */
	if (*(volatile __u64 *)&st->head != key)
		return 0;
	__u64 d = *(volatile __u64 *)&st->t_drv;
	if (*(volatile __u64 *)&st->head != key) /* that CPU stamped another packet meanwhile */
		return 0;
	*t_drv = d;
	st->head = 0;
	return 1;
}

/* The device time of a packet stamped on another CPU (RPS), or 0. */
static __always_inline __u64 rx_stamp_elsewhere(struct rx_stamps *mine, __u32 i, __u64 key)
{
	__u32 self = bpf_get_smp_processor_id();
	__u32 hint = mine->hint;
	__u64 t_drv = 0;

	if (hint != self && rx_stamp_on(hint, i, key, &t_drv) > 0)
		return t_drv;
	__u32 cpu = mine->scan;
	for (int n = 0; n < NW_RX_SCAN; n++, cpu++) {
		if (cpu == self || cpu == hint)
			continue;
		int r = rx_stamp_on(cpu, i, key, &t_drv);
		if (r < 0) { /* past the last CPU: wrap */
			cpu = 0;
			r = cpu == self || cpu == hint ? 0 : rx_stamp_on(cpu, i, key, &t_drv);
		}
		if (r > 0) {
			mine->hint = cpu;
			mine->scan = cpu + 1;
			return t_drv;
		}
	}
	mine->scan = cpu;
	return 0;
}

/*
 * skb->head as a number. A direct load gives the verifier a pointer (6.18: untrusted read-only
 * memory), which cannot index an array: one probe read gives a plain scalar.
 */
static __always_inline __u64 rx_head(const struct sk_buff *skb)
{
	__u64 h = 0;

	bpf_probe_read_kernel(&h, sizeof(h), &skb->head);
	return h;
}

/* The slot of skb->head in the per-CPU tables (heads are at least 64-byte aligned buffers). */
static __always_inline __u32 rx_slot(__u64 head)
{
	return (__u32)((head >> 6) * 0x9E3779B97F4A7C15ULL >> 56) & (NW_RX_STAMPS - 1);
}

static __always_inline struct rx_stamp *rx_stamp_of(__u64 head)
{
	__u32 zero = 0;
	struct rx_stamps *t = bpf_map_lookup_elem(&rx_stamps, &zero);
	__u32 i = rx_slot(head);

	if (!t || i >= NW_RX_STAMPS)
		return 0;
	return &t->s[i];
}

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
	__u64 key = rx_head(skb);
	__u64 now = bpf_ktime_get_ns();
	struct rx_stamp *st = rx_stamp_of(key);
	if (st) {
		st->head = key;
		st->t_drv = now;
		st->t_rcv = 0;
	}
}

SEC("tp_btf/netif_rx")
int BPF_PROG(nw_pkt_netif_rx, struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	rx_start(skb);
	return 0;
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(nw_pkt_gro, const struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	rx_start(skb);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(nw_pkt_receive, struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	if (!rx_wanted(skb))
		return 0; /* not followed: no lookup */
	__u64 key = rx_head(skb);
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0, i = rx_slot(key);
	struct rx_stamps *mine = bpf_map_lookup_elem(&rx_stamps, &zero);
	if (!mine || i >= NW_RX_STAMPS)
		return 0;
	struct rx_stamp *st = &mine->s[i];
	if (st->head != key) { /* stamped on another CPU (RPS), overwritten, or never stamped */
		st->t_drv = rx_stamp_elsewhere(mine, i, key);
		st->head = key;
	}
	st->t_rcv = now;
	return 0;
}

static __always_inline void emit_rx_now(void *ctx, const struct nw_flow *flow, __u32 netns, const struct nw_l4 *l4,
					__u32 len, __u32 ifindex, __u64 t_drv, __u64 t_rcv, __u64 t_in, int skb_prog)
{
	int in_task = pkt_in_task(ctx);
	if (!nw_owner_pass_at(0, in_task, skb_prog))
		return;
	struct packet_event *e = new_packet(t_in, in_task, skb_prog, NW_DIR_RX, flow, netns, 0);
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
	if (nw_snaplen)
		e->cap_key = t_in;
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
	if (!pass_local(&flow, netns, NW_DIR_RX) || !nw_pcap_pass_skb(skb)) /* the expression: once per packet, where its record starts */
		return;
	__u64 head = rx_head(skb);
	struct rx_stamp *st = rx_stamp_of(head);
	if (st && st->head == head) { /* netif_receive_skb ran just before, on this CPU */
		t_drv = st->t_drv;
		t_rcv = st->t_rcv;
		st->head = 0;
	}
	/*
	 * No device time: netif_rx/napi_gro_receive_entry or netif_receive_skb ran no BPF for it (a
	 * softirq on top of another task runs no tracing program, now and then), its stamp was
	 * overwritten, or the driver hands packets up by a path without those tracepoints. Its
	 * record lacks the layer: counted.
	 */
	if (!t_drv || !t_rcv)
		count(NW_C_RX_NO_DEVICE);
	__u32 len = nw_payload_len(skb, &l4);
	/* -w: an echo request's record is the icmp_event of its reply, which has no cap_key */
	if (nw_snaplen && !icmp_is_request(&flow, &l4))
		capture(skb, netns, NW_DIR_RX, t_in);

	if (flow.proto == IPPROTO_TCP && len) {
		tcp_rx_append(&flow, netns, &l4, len, ifindex, t_drv, t_rcv, t_in);
		return;
	}
	if (flow.proto == IPPROTO_UDP) {
		struct udp_rx u = {.flow = flow, .netns = netns, .ifindex = ifindex, .len = len,
				   .t_drv = t_drv, .t_rcv = t_rcv, .t_in = t_in};
		udp_rx_arrived(&u);
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
	NW_FLOOR_RETURN(NF_ACCEPT);
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
	NW_FLOOR_RETURN(0);
	pkt_in(ctx, skb, BPF_CORE_READ(net, ns.inum), BPF_CORE_READ(skb, dev, ifindex), 0);
	return 0;
}

SEC("fentry/ip6_protocol_deliver_rcu")
int BPF_PROG(nw_pkt_in_f6, struct net *net, struct sk_buff *skb, int nexthdr, bool have_final)
{
	NW_FLOOR_RETURN(0);
	pkt_in(ctx, skb, BPF_CORE_READ(net, ns.inum), BPF_CORE_READ(skb, dev, ifindex), 0);
	return 0;
}
