/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, send path (packet_tx.bpf.h), LOCAL_OUT: a local packet the netfilter hook (or,
 * before 6.4, ip_output/ip6_output) accepted starts its tx state here.
 */
/* ---------------------------------------------------------------- LOCAL_OUT to the driver */

/* A local packet the LOCAL_OUT hook accepted: its tx state starts here. */
static __always_inline void pkt_out(void *ctx, struct sk_buff *skb, __u32 netns)
{
	if (!nf_wanted(skb))
		return;

	struct nw_flow flow = {};
	struct nw_l4 l4 = {};
	if (nw_flow_from_skb(&flow, &l4, skb) || !wanted(flow.proto))
		return;
	if (!nw_filter_pass(&flow, netns) || !nw_pcap_pass_skb(skb)) /* the expression: once per packet, where its record starts */
		return;

	struct tx_cpu *c = tx_scratch();
	if (!c)
		return;
	__u32 i = tx_scratch_claim(c, (__u64)skb, (__u64)skb->head, bpf_ktime_get_ns());
	if (i >= NW_TX_SCRATCH)
		return;
	struct tx_state *st = &c->st[i];
	__builtin_memset(st, 0, sizeof(*st));
	st->flow = flow;
	st->netns = netns;
	st->t_out = c->claimed[i];
	st->head = (__u64)skb->head;
	st->seq = l4.seq;
	st->ack = l4.ack;
	st->len = nw_payload_len(skb, &l4);
	st->tcp_flags = l4.tcp_flags;
	st->icmp_type = l4.icmp_type;
	st->icmp_code = l4.icmp_code;

	if (flow.proto == IPPROTO_TCP) {
		struct sock *sk = skb->sk;
		if (st->len && sk_is_full_tcp(sk)) {
			__u32 snd_nxt = BPF_CORE_READ((struct tcp_sock *)sk, snd_nxt);
			if (before(st->seq, snd_nxt)) {
				st->flags |= NW_PKT_RETRANS;
			} else {
				__u64 sk_key = (__u64)sk;
				struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &sk_key);
				if (ts)
					st->t_app = app_time(ts, st->seq);
			}
		}
	} else if (flow.proto == IPPROTO_UDP) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		__u64 *since = bpf_map_lookup_elem(&udp_send, &tid);
		if (since && nw_in_task_context(ctx))
			st->t_app = *since;
	} else if (icmp_is_reply(&flow, &l4) && icmp_take_request(&flow, &l4, netns, &st->req)) {
		st->echo_reply = 1;
		st->icmp_id = l4.icmp_id;
		st->icmp_seq = l4.icmp_seq;
	}
	c->skb[i] = (__u64)skb;
}

SEC("netfilter")
int nw_pkt_out(struct bpf_nf_ctx *ctx)
{
	NW_FLOOR_RETURN(NF_ACCEPT);
	pkt_out(ctx, ctx->skb, ctx->state->net->ns.inum);
	return NF_ACCEPT;
}

/*
 * Kernels without netfilter BPF programs (before 6.4) but with fentry (6.1): dst_output()
 * calls ip_output() / ip6_output() right after the LOCAL_OUT hook accepted a local packet
 * (ip_local_out(), ip6_xmit()). Forwarded packets pass there too: ip_forward() and
 * ip6_forward() mark them, and LOCAL_OUT never sees them. Loaded instead of nw_pkt_out
 * only where it cannot load (Session: a program named <name>_f<n> stands in for <name>).
 */
#define NW_IPSKB_FORWARDED 1	/* include/net/ip.h */
#define NW_IP6SKB_FORWARDED 2	/* include/linux/ipv6.h */

SEC("fentry/ip_output")
int BPF_PROG(nw_pkt_out_f4, struct net *net, struct sock *sk, struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	struct inet_skb_parm *cb = (struct inet_skb_parm *)&skb->cb[0];

	if (!(BPF_CORE_READ(cb, flags) & NW_IPSKB_FORWARDED))
		pkt_out(ctx, skb, BPF_CORE_READ(net, ns.inum));
	return 0;
}

SEC("fentry/ip6_output")
int BPF_PROG(nw_pkt_out_f6, struct net *net, struct sock *sk, struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	struct inet6_skb_parm *cb = (struct inet6_skb_parm *)&skb->cb[0];

	if (!(BPF_CORE_READ(cb, flags) & NW_IP6SKB_FORWARDED))
		pkt_out(ctx, skb, BPF_CORE_READ(net, ns.inum));
	return 0;
}
