// SPDX-License-Identifier: GPL-2.0
/*
 * -k: packet drops. Since v5.17 kfree_skb_reason() passes a reason; since v6.x
 * consumed packets go to trace_consume_skb instead, so kfree_skb only carries
 * drops (SKB_CONSUMED is still filtered out defensively, as is NOT_DROPPED_YET).
 */
#include "nw_skb.h"
#include "drop.h"
#include "nw_pcap_filter.h"
#include "nw_capture.h"

NW_BTF_EXPORT(drop_event);
NW_BTF_EXPORT(drop_stack_event);

/* -w: frames not put in the full ring (nw_counters) */
enum nw_drop_counter {
	NW_DC_CAPTURE_LOST = 0,
	NW_DC_COUNT = 1,
};
NW_BTF_EXPORT_ENUM(nw_drop_counter);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NW_DC_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} nw_counters SEC(".maps");

/*
 * -w: the dropped packet's bytes from its IP header, before its record, under the time the record
 * then carries; 0 without -w.
 */
static __always_inline __u64 drop_capture(struct sk_buff *skb, __u32 netns)
{
	if (!nw_snaplen)
		return 0;
	__u64 key = bpf_ktime_get_ns();
	if (nw_capture(skb, NW_EV_DROP_CAPTURE, netns, NW_CAP_DROP, key, 1) < 0) {
		__u32 i = NW_DC_CAPTURE_LOST;
		__u64 *n = bpf_map_lookup_elem(&nw_counters, &i);
		if (n)
			*n += 1;
	}
	return key;
}

/* --stack: each record carries the kernel stack of the drop (bpf_get_stack() into the record) */
const volatile __u32 nw_drop_stack = 0;

/* nw_drop's half of the --netns predicate its witness nw_w_drop applies: the probe needs netns anyway. */
static __always_inline int nw_drop_watched(struct sk_buff *skb, struct sock *rx_sk, __u32 *netns)
{
	*netns = nw_skb_netns(skb, rx_sk);
	return !nw_filter.netns || nw_filter.netns == *netns;
}

/* The witness of nw_drop (see nw_hook_hit): defined first, so attached first. */
/*
 * kfree_skb's fourth argument, rx_sk, exists since 6.8 or so (6.1 has skb, location and
 * reason): user space sets this from the kernel's BTF (btf_trace_kfree_skb), and where it
 * is 0 the verifier never sees the read of ctx[3].
 */
const volatile __u32 nw_kfree_has_rx_sk = 1;

static __always_inline struct sock *nw_rx_sk(__u64 *ctx)
{
	return nw_kfree_has_rx_sk ? (struct sock *)ctx[3] : 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(nw_w_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	NW_FLOOR_RETURN(0);
	struct sock *rx_sk = nw_rx_sk(ctx);

	/* without --netns the verifier drops the namespace read (nw_filter is read-only data) */
	if (!nw_filter.netns || nw_skb_netns(skb, rx_sk) == nw_filter.netns)
		nw_hook_hit(0);
	return 0;
}

static __always_inline void drop_fill(void *ctx, struct drop_event *e, struct sk_buff *skb, void *location,
				      enum skb_drop_reason reason, struct nw_flow *flow, struct nw_l4 *l4, __u32 netns,
				      const struct sock *owner)
{
	nw_fill_hdr(ctx, &e->hdr, NW_EV_DROP, netns, owner);
	e->flow = *flow;
	e->location = (__u64)location;
	e->reason = reason;
	e->len = BPF_CORE_READ(skb, len);
	e->seq = l4->seq;
	e->tcp_flags = l4->tcp_flags;
	e->stack_len = 0;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(nw_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	NW_FLOOR_RETURN(0);
	struct sock *rx_sk = nw_rx_sk(ctx);
	struct nw_flow flow = {};
	struct nw_l4 l4 = {};
	__u32 netns;

	if (!nw_drop_watched(skb, rx_sk, &netns))
		return 0;
	nw_hook_run(0);
	if (reason == SKB_CONSUMED || reason == SKB_NOT_DROPPED_YET)
		return 0;
	nw_flow_from_skb(&flow, &l4, skb);
	/* the receiving socket the packet was dropped for (rx_sk), else the one that owns it (tx) */
	const struct sock *owner = rx_sk ? rx_sk : skb->sk;
	if (!nw_filter_pass(&flow, netns) || !nw_owner_pass(ctx, owner))
		return 0;
	/* a filter expression describes IP packets: a drop without an IP header matches none */
	if (nw_pcap_len && (!flow.family || !nw_pcap_pass_skb(skb)))
		return 0;

	__u64 key = drop_capture(skb, netns);
	if (nw_drop_stack) {
		struct drop_stack_event *s = nw_reserve(sizeof(*s));
		if (!s)
			return 0;
		drop_fill(ctx, &s->drop, skb, location, reason, &flow, &l4, netns, owner);
		if (key)
			s->drop.hdr.ts_ns = key; /* the capture's key */
		/* from the program's caller inward: the tracepoint's own frames first (user space skips them) */
		long n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), 0);
		s->drop.stack_len = n > 0 ? n / sizeof(__u64) : 0;
		nw_submit(s);
		return 0;
	}
	struct drop_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return 0;
	drop_fill(ctx, e, skb, location, reason, &flow, &l4, netns, owner);
	if (key)
		e->hdr.ts_ns = key; /* the capture's key */
	nw_submit(e);
	return 0;
}
