// SPDX-License-Identifier: GPL-2.0
/*
 * -r: TCP retransmissions. Tracepoint tcp/tcp_retransmit_skb, fired at the end
 * of tcp_retransmit_skb() with the result of __tcp_retransmit_skb() as err.
 * ca_state tells timeout retransmits (Loss) from fast retransmits (Recovery).
 */
#include "nw_common.h"
#include "retrans.h"

NW_BTF_EXPORT(retrans_event);

/* The witness of nw_retrans (see nw_hook_hit): defined first, so attached first. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(nw_w_retrans)
{
	NW_FLOOR_RETURN(0);
	nw_hook_hit(0);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(nw_retrans, const struct sock *sk, const struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	int err = nw_retransmit_err(ctx);
	struct nw_flow flow = {};
	__u32 netns;

	nw_hook_run(0);
	nw_flow_from_sk(&flow, sk);
	netns = nw_sk_netns(sk);
	if (!nw_filter_pass(&flow, netns) || !nw_owner_pass(ctx, sk))
		return 0;

	struct retrans_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return 0;
	nw_fill_hdr(ctx, &e->hdr, NW_EV_RETRANS, netns, sk);
	e->flow = flow;
	e->skaddr = (__u64)sk;
	/* struct tcp_skb_cb lives in skb->cb and starts with seq, end_seq. */
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	e->seq = BPF_CORE_READ(cb, seq);
	e->end_seq = BPF_CORE_READ(cb, end_seq);
	e->err = err;
	e->total_retrans = BPF_CORE_READ((struct tcp_sock *)sk, total_retrans);
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->ca_state = BPF_CORE_READ_BITFIELD_PROBED((struct inet_connection_sock *)sk, icsk_ca_state);
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	nw_submit(e);
	return 0;
}
