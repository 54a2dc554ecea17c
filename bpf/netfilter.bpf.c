// SPDX-License-Identifier: GPL-2.0
/*
 * -n: per-hook netfilter time. Two netfilter BPF programs (prog type
 * BPF_PROG_TYPE_NETFILTER, linked with BPF_LINK_CREATE) sit on every hook of
 * IPv4 and IPv6: nw_nf_first at priority INT_MIN+1 and nw_nf_last at INT_MAX-1
 * (INT_MIN and INT_MAX themselves are refused, see bpf_nf_check_pf_and_hooks()).
 * nf_hook_slow() runs the hook's entries in priority order, so the time between
 * them is what the hook's other entries cost. A packet is followed by its skb
 * address within one network namespace.
 */
#include "nw_skb.h"
#include "netfilter.h"

NW_BTF_EXPORT(nf_event);

#define NF_ACCEPT 1

struct nf_track {
	struct nw_flow flow;
	__u32 netns;
	__u8 dir;
	__u8 pad[3];
	__u64 t_first[NW_NF_HOOKS];
	__u64 hook_ns[NW_NF_HOOKS];
	__u8 mask;
	__u8 pad2[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);             /* skb address */
	__type(value, struct nf_track);
} nf_track SEC(".maps");

SEC("netfilter")
int nw_nf_first(struct bpf_nf_ctx *ctx)
{
	__u64 key = (__u64)ctx->skb;
	__u8 hook = BPF_CORE_READ(ctx->state, hook);
	__u64 now = bpf_ktime_get_ns();

	if (hook >= NW_NF_HOOKS)
		return NF_ACCEPT;
	struct nf_track *t = bpf_map_lookup_elem(&nf_track, &key);
	if (!t || hook == NW_NF_PRE_ROUTING || hook == NW_NF_LOCAL_OUT) {
		/* A packet enters netfilter here: parse it and apply the filter once. */
		struct nf_track n = {};
		struct nw_l4 l4 = {};
		if (nw_flow_from_skb(&n.flow, &l4, ctx->skb))
			return NF_ACCEPT;
		n.netns = BPF_CORE_READ(ctx->state, net, ns.inum);
		n.dir = hook == NW_NF_LOCAL_OUT || hook == NW_NF_POST_ROUTING ? 0 : 1;
		struct nw_flow local = n.flow;
		if (n.dir == 1)
			nw_flow_reverse(&local);
		if (!nw_filter_pass(&local, n.netns)) {
			if (t)
				bpf_map_delete_elem(&nf_track, &key);
			return NF_ACCEPT;
		}
		bpf_map_update_elem(&nf_track, &key, &n, BPF_ANY);
		t = bpf_map_lookup_elem(&nf_track, &key);
		if (!t)
			return NF_ACCEPT;
	}
	if (hook == NW_NF_FORWARD)
		t->dir = 2;
	t->t_first[hook] = now;
	return NF_ACCEPT;
}

SEC("netfilter")
int nw_nf_last(struct bpf_nf_ctx *ctx)
{
	__u64 key = (__u64)ctx->skb;
	__u8 hook = BPF_CORE_READ(ctx->state, hook);
	__u64 now = bpf_ktime_get_ns();

	if (hook >= NW_NF_HOOKS)
		return NF_ACCEPT;
	struct nf_track *t = bpf_map_lookup_elem(&nf_track, &key);
	if (!t || !t->t_first[hook])
		return NF_ACCEPT;
	t->hook_ns[hook] = now - t->t_first[hook];
	t->mask |= 1 << hook;
	if (hook != NW_NF_LOCAL_IN && hook != NW_NF_POST_ROUTING)
		return NF_ACCEPT;

	struct nf_event *e = nw_reserve(sizeof(*e));
	if (e) {
		nw_fill_hdr_skb(ctx, &e->hdr, NW_EV_NETFILTER, t->netns);
		e->flow = t->flow;
		__builtin_memcpy(e->hook_ns, t->hook_ns, sizeof(e->hook_ns));
		e->len = BPF_CORE_READ(ctx->skb, len);
		e->ifindex = hook == NW_NF_LOCAL_IN ? BPF_CORE_READ(ctx->state, in, ifindex)
						    : BPF_CORE_READ(ctx->state, out, ifindex);
		e->hook_mask = t->mask;
		e->dir = t->dir;
		__builtin_memset(e->pad, 0, sizeof(e->pad));
		nw_submit(e);
	}
	bpf_map_delete_elem(&nf_track, &key);
	return NF_ACCEPT;
}
