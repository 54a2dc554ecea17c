/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c: where a packet record goes. publish() is its one exit: in-kernel
 * histograms and counts (--metrics), then the ring buffer unless metrics-only. Flow totals
 * (packets and payload bytes per flow) are kept here too. With --sample N every count
 * added here is N: one sampled packet stands for N.
 */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);    /* local view: saddr is ours */
	__type(value, struct flow_totals);
} flow_totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * NW_HIST_PROTOS * NW_L_COUNT);
	__type(key, __u32);
	__type(value, struct layer_hist);
} layer_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * NW_HIST_PROTOS);
	__type(key, __u32);
	__type(value, struct packet_count);
} packet_counts SEC(".maps");

static __always_inline void add_totals(__u32 netns, const struct nw_flow *wire, __u8 dir, __u32 len)
{
	if (nw_aggregate == NW_AGG_ONLY)
		return; /* flow totals are printed, never exported: nobody reads them in metrics-only mode */
	struct flow_key k = {.netns = netns, .flow = *wire};
	if (dir == NW_DIR_RX)
		nw_flow_reverse(&k.flow);
	struct flow_totals zero = {};
	struct flow_totals *t = nw_lookup_or_init(&flow_totals, &k, &zero);
	if (!t)
		return;
	__u64 n = nw_sample > 1 ? nw_sample : 1;
	if (dir == NW_DIR_TX) {
		__sync_fetch_and_add(&t->tx_packets, n);
		__sync_fetch_and_add(&t->tx_bytes, (__u64)len * n);
	} else {
		__sync_fetch_and_add(&t->rx_packets, n);
		__sync_fetch_and_add(&t->rx_bytes, (__u64)len * n);
	}
}

/*
 * Global (not inlined) functions: the verifier checks each once on its own
 * instead of once per path of every caller, which the callers' many paths
 * would multiply past its limit. Arguments are scalars only.
 */
__noinline int nw_hist_add(__u32 key, __u64 ns)
{
	struct layer_hist *h = bpf_map_lookup_elem(&layer_hists, &key);
	__u64 n = nw_sample > 1 ? nw_sample : 1;

	if (!h)
		return 0;
	h->sum_ns += ns * n;
	/* bucket 0: below 2^NW_HIST_MIN_SHIFT ns; b: [2^(b+9), 2^(b+10)) ns; capped at the last */
	__u64 b = nw_log2(ns >> (NW_HIST_MIN_SHIFT - 1));
	/* the widening cast first, then the bound on the same register (6.1's verifier loses it otherwise) */
	barrier_var(b);
	if (b > NW_HIST_BUCKETS - 1)
		b = NW_HIST_BUCKETS - 1;
	h->buckets[b] += n;
	return 0;
}

__noinline int nw_count_add(__u32 key, __u32 len)
{
	struct packet_count *c = bpf_map_lookup_elem(&packet_counts, &key);
	__u64 n = nw_sample > 1 ? nw_sample : 1;

	if (c) {
		c->packets += n;
		c->bytes += (__u64)len * n;
	}
	return 0;
}

static __always_inline void aggregate(const struct packet_event *e)
{
	__u32 proto = e->flow.proto == IPPROTO_TCP ? NW_HP_TCP : e->flow.proto == IPPROTO_UDP ? NW_HP_UDP : NW_HP_ICMP;
	__u32 base = (e->dir ? NW_HIST_PROTOS : 0) + proto;
	__u8 mask = e->layer_mask;

	nw_count_add(base, e->len);
	if (mask & (1 << NW_L_TRANSPORT))
		nw_hist_add(base * NW_L_COUNT + NW_L_TRANSPORT, e->layer_ns[NW_L_TRANSPORT]);
	if (mask & (1 << NW_L_IP))
		nw_hist_add(base * NW_L_COUNT + NW_L_IP, e->layer_ns[NW_L_IP]);
	if (mask & (1 << NW_L_QDISC))
		nw_hist_add(base * NW_L_COUNT + NW_L_QDISC, e->layer_ns[NW_L_QDISC]);
	if (mask & (1 << NW_L_DRIVER))
		nw_hist_add(base * NW_L_COUNT + NW_L_DRIVER, e->layer_ns[NW_L_DRIVER]);
	if (mask & (1 << NW_L_SOCKET))
		nw_hist_add(base * NW_L_COUNT + NW_L_SOCKET, e->layer_ns[NW_L_SOCKET]);
}

/* Does the record need to know whether it runs in task context (its header, or --pid/--comm/--cgroup)? */
static __always_inline int pkt_in_task(void *ctx)
{
	return (nw_aggregate != NW_AGG_ONLY || nw_filter.owner) && nw_in_task_context(ctx);
}

/* The one exit of a packet record: histograms (--metrics), then user space unless metrics-only. */
static __always_inline void publish(struct packet_event *e)
{
	if (nw_aggregate)
		aggregate(e);
	if (nw_aggregate == NW_AGG_ONLY)
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
	else
		nw_submit(e);
}

/*
 * A record stamped now (the hook's one clock read); in_task: nw_in_task_context() of the
 * hook; skb_prog: the hook is a netfilter program (see nw_skb_comm); sk: the socket whose
 * owner the record names, 0 for the current task (a read: the reader) or nobody.
 * The caller has checked nw_owner_pass_at() (pkt_in_task() gives in_task for both).
 */
static __always_inline struct packet_event *new_packet(__u64 now, int in_task, int skb_prog, __u8 dir,
						       const struct nw_flow *flow, __u32 netns, const struct sock *sk)
{
	struct packet_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return 0;
	if (nw_aggregate != NW_AGG_ONLY) /* metrics-only: the header never leaves the kernel */
		nw_fill_hdr_at(&e->hdr, NW_EV_PACKET, netns, now, in_task, skb_prog, sk);
	e->flow = *flow;
	__builtin_memset(e->layer_ns, 0, sizeof(e->layer_ns));
	e->dir = dir;
	e->layer_mask = 0;
	e->seq = e->ack = e->len = e->ifindex = 0;
	e->tcp_flags = e->flags = e->icmp_type = e->icmp_code = 0;
	e->pad = 0;
	e->cap_key = 0;
	return e;
}
