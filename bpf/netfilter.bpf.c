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
#include "nw_pcap_filter.h"

NW_BTF_EXPORT(nf_event);
NW_BTF_EXPORT_ENUM(nw_nf_hook);
NW_BTF_EXPORT_ENUM(nf_inet_hooks);
/* the kernel's: a netfilter program's type and attach type, which libbpf 1.1 does not know */
NW_BTF_EXPORT_ENUM(bpf_prog_type);
NW_BTF_EXPORT_ENUM(bpf_attach_type);
NW_BTF_EXPORT_ENUM(bpf_cmd);

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

/* The hook's first entry: the packet enters the hook now. */
static __always_inline void nf_first(struct sk_buff *skb, const struct nf_hook_state *state)
{
	__u64 key = (__u64)skb;
	__u8 hook = BPF_CORE_READ(state, hook);
	__u64 now = bpf_ktime_get_ns();

	if (hook >= NW_NF_HOOKS)
		return;
	struct nf_track *t = bpf_map_lookup_elem(&nf_track, &key);
	if (!t || hook == NW_NF_PRE_ROUTING || hook == NW_NF_LOCAL_OUT) {
		/* A packet enters netfilter here: parse it and apply the filter once. */
		struct nf_track n = {};
		struct nw_l4 l4 = {};
		if (nw_flow_from_skb(&n.flow, &l4, skb))
			return;
		n.netns = BPF_CORE_READ(state, net, ns.inum);
		n.dir = hook == NW_NF_LOCAL_OUT || hook == NW_NF_POST_ROUTING ? 0 : 1;
		struct nw_flow local = n.flow;
		if (n.dir == 1)
			nw_flow_reverse(&local);
		if (!nw_filter_pass(&local, n.netns) || !nw_pcap_pass_skb(skb)) {
			if (t)
				bpf_map_delete_elem(&nf_track, &key);
			return;
		}
		bpf_map_update_elem(&nf_track, &key, &n, BPF_ANY);
		t = bpf_map_lookup_elem(&nf_track, &key);
		if (!t)
			return;
	}
	if (hook == NW_NF_FORWARD)
		t->dir = 2;
	t->t_first[hook] = now;
}

/* The hook's last entry accepted the packet: its time in the hook ends now. */
static __always_inline void nf_last(void *ctx, struct sk_buff *skb, const struct nf_hook_state *state, int skb_prog)
{
	__u64 key = (__u64)skb;
	__u8 hook = BPF_CORE_READ(state, hook);
	__u64 now = bpf_ktime_get_ns();

	if (hook >= NW_NF_HOOKS)
		return;
	struct nf_track *t = bpf_map_lookup_elem(&nf_track, &key);
	if (!t || !t->t_first[hook])
		return;
	t->hook_ns[hook] = now - t->t_first[hook];
	t->mask |= 1 << hook;
	if (hook != NW_NF_LOCAL_IN && hook != NW_NF_POST_ROUTING)
		return;

	const struct sock *sk = skb->sk;
	int in_task = nw_in_task_context(ctx);
	struct nf_event *e = nw_owner_pass_at(sk, in_task, skb_prog) ? nw_reserve(sizeof(*e)) : 0;
	if (e) {
		nw_fill_hdr_at(&e->hdr, NW_EV_NETFILTER, t->netns, now, in_task, skb_prog, sk);
		e->flow = t->flow;
		__builtin_memcpy(e->hook_ns, t->hook_ns, sizeof(e->hook_ns));
		e->len = BPF_CORE_READ(skb, len);
		e->ifindex = hook == NW_NF_LOCAL_IN ? BPF_CORE_READ(state, in, ifindex)
						    : BPF_CORE_READ(state, out, ifindex);
		e->hook_mask = t->mask;
		e->dir = t->dir;
		__builtin_memset(e->pad, 0, sizeof(e->pad));
		nw_submit(e);
	}
	bpf_map_delete_elem(&nf_track, &key);
}

SEC("netfilter")
int nw_nf_first(struct bpf_nf_ctx *ctx)
{
	nf_first(ctx->skb, ctx->state);
	return NF_ACCEPT;
}

SEC("netfilter")
int nw_nf_last(struct bpf_nf_ctx *ctx)
{
	nf_last(ctx, ctx->skb, ctx->state, 1);
	return NF_ACCEPT;
}

/*
 * Kernels without netfilter BPF programs (before 6.4) but with fentry (6.1): nf_hook_slow()
 * runs a hook's entries (netfilter/core.c), so its entry and exit bound the same time as the
 * first and last priority. Differences: a hook with no entry is not called at all (absent
 * from hook_mask instead of ~0 ns), and other families pass there too (only IPv4 and IPv6
 * are followed). nf_hook_slow() returns 1 when every entry accepted; on a drop the skb is
 * already freed at exit, and stolen or queued packets are no longer the hook's: both are
 * forgotten without reading the skb.
 */
#define NW_NFPROTO_IPV4 2
#define NW_NFPROTO_IPV6 10

static __always_inline int nf_family_followed(const struct nf_hook_state *state)
{
	__u8 pf = BPF_CORE_READ(state, pf);

	return pf == NW_NFPROTO_IPV4 || pf == NW_NFPROTO_IPV6;
}

SEC("fentry/nf_hook_slow")
int BPF_PROG(nw_nf_first_f1, struct sk_buff *skb, struct nf_hook_state *state, const struct nf_hook_entries *e,
	     unsigned int s)
{
	if (nf_family_followed(state))
		nf_first(skb, state);
	return 0;
}

SEC("fexit/nf_hook_slow")
int BPF_PROG(nw_nf_last_f1, struct sk_buff *skb, struct nf_hook_state *state, const struct nf_hook_entries *e,
	     unsigned int s, int ret)
{
	if (!nf_family_followed(state))
		return 0;
	if (ret == 1) {
		nf_last(ctx, skb, state, 0);
	} else {
		__u64 key = (__u64)skb;
		bpf_map_delete_elem(&nf_track, &key);
	}
	return 0;
}
