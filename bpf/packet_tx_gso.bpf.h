/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, send path (packet_tx.bpf.h), the device queue and GSO: net_dev_queue moves a
 * queued packet's state to tx_pkt and remembers GSO packets per socket, whose segments a qdisc
 * (tbf) or validate_xmit_skb() may cut later.
 */
/*
 * A GSO packet cut and sent in part is done once the next packet starts where it ends (a qdisc
 * sends in order): its next moves to its end, so it is no longer the packet expected next. What
 * it did not send is counted by the sequence numbers (tcp_drv_seen()), not here.
 */
static __always_inline void gso_done(struct tx_gso *g)
{
	if (g->t_queue && before(g->next, g->end))
		g->next = g->end;
}

static __always_inline void count_unseen(__u32 bytes, __u32 mss)
{
	if (!bytes)
		return;
	if (!mss)
		mss = 1;
	count_add(NW_C_UNFINISHED, (bytes + mss - 1) / mss);
	count_add(NW_C_UNFINISHED_BYTES, bytes);
}

/*
 * A TCP record at the driver (tx): a data packet (or FIN) that starts beyond the furthest byte
 * the driver sent before went past bytes the tool did not see leave: dropped in a qdisc, or
 * net_dev_start_xmit/net_dev_xmit ran no BPF for them (a softirq on top of another task runs
 * no tracing program at all, now and then). They are counted here, from the sequence numbers,
 * once: a retransmission starts below and counts nothing. The tail (the last packets before a
 * close) is counted at the close (tcp_drv_close()). Not with --sample or an expression (packets are chosen,
 * not flows). Pure ACKs carry snd_nxt and may pass data in another device queue: not used.
 */
static __always_inline void tcp_drv_seen(const struct sock *sk, struct tx_state *st)
{
	int fin = st->tcp_flags & 0x01;

	if (!sk || (!st->len && !fin) || selective())
		return;
	__u64 key = (__u64)sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &key);
	if (!ts)
		return;
	__u32 end = st->seq + st->len + (fin ? 1 : 0);
	/*
	 * Data that starts below what the driver already sent is a resend, whatever the hooks before
	 * saw: the mark LOCAL_OUT sets (seq below snd_nxt) is lost when net_dev_queue ran no BPF for
	 * the resend, and its segments then take the first send's state from the GSO ring. drv_end up
	 * to snd_nxt: a drv_end left by a closed socket at the same address is not taken for one.
	 * Times a resend took from its first send are not its own: it keeps the driver's only.
	 */
	if (st->len && ts->drv_set && before(st->seq, ts->drv_end) &&
	    !after(ts->drv_end, BPF_CORE_READ((struct tcp_sock *)sk, snd_nxt))) {
		if (!(st->flags & NW_PKT_RETRANS))
			st->t_app = st->t_out = st->t_queue = 0;
		st->flags |= NW_PKT_RETRANS;
	}
	if (ts->drv_set && before(ts->drv_end, st->seq))
		count_unseen(st->seq - ts->drv_end, BPF_CORE_READ((struct tcp_sock *)sk, mss_cache));
	if (!ts->drv_set || before(ts->drv_end, end)) {
		ts->drv_end = end;
		ts->drv_set = 1;
	}
}

/*
 * A socket closed after its FIN was acknowledged (LAST_ACK, FIN_WAIT2, CLOSING -> CLOSE): all it
 * sent passed the driver, so bytes beyond drv_end up to snd_nxt (nxt) went by unseen, its FIN too.
 * Called from the close's tracepoint and from the sockops state callback (nw_pkt_sops), whichever
 * runs first: drv_end then equals nxt and the other counts nothing.
 */
static __always_inline void tcp_drv_close(struct tx_sock *ts, int oldstate, __u32 nxt)
{
	if (!ts->drv_set || selective() ||
	    (oldstate != TCP_LAST_ACK && oldstate != TCP_FIN_WAIT2 && oldstate != TCP_CLOSING))
		return;
	if (!before(ts->drv_end, nxt))
		return;
	__u32 bytes = nxt - ts->drv_end - 1; /* less the FIN's sequence number */
	count(NW_C_UNFINISHED);
	count_add(NW_C_UNFINISHED_BYTES, bytes);
	ts->drv_end = nxt;
}

/* Remember a GSO packet per socket: the qdisc (tbf) or validate_xmit_skb() may split it. */
static __always_inline void note_gso(const struct sk_buff *skb, const struct tx_state *st)
{
	struct skb_shared_info *shinfo = nw_skb_shinfo(skb);

	if (BPF_CORE_READ(shinfo, gso_segs) <= 1)
		return;
	__u64 sk_key = (__u64)skb->sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &sk_key);
	if (!ts)
		return;
	__u32 i = ts->gso_next % NW_GSO_RING;
	struct tx_gso *g = &ts->gso[i];
	g->mss = BPF_CORE_READ(shinfo, gso_size);
	g->seq = st->seq;
	g->next = st->seq;
	g->end = st->seq + st->len;
	g->t_app = st->t_app;
	g->t_out = st->t_out;
	g->t_queue = st->t_queue;
	g->flags = st->flags;
	g->no_qdisc = st->no_qdisc;
	ts->gso_next = i + 1;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(nw_pkt_queue, struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	__u64 key = (__u64)skb;
	struct tx_cpu *c = tx_scratch();
	if (!c)
		return 0;
	/* LOCAL_OUT ran just before, on this CPU: the state is in the scratch or nowhere */
	int i = tx_scratch_find(c, key, (__u64)skb->head);
	if (i < 0 || i >= NW_TX_SCRATCH)
		return 0; /* not from a hooked LOCAL_OUT: forwarded, or a namespace without our hooks */
	struct tx_state *st = &c->st[i];
	st->t_queue = bpf_ktime_get_ns();
	st->ifindex = skb->dev->ifindex;
	st->no_qdisc = dev_noqueue(skb, skb->dev);
	if (st->flow.proto == IPPROTO_TCP)
		note_gso(skb, st);
	if (!st->no_qdisc) {
		/* queued: dequeued later, maybe on another CPU; the state goes to the table */
		if (!bpf_map_update_elem(&tx_pkt, &key, st, BPF_ANY))
			__sync_fetch_and_add(&tx_in_table, 1);
		c->skb[i] = 0;
	}
	return 0;
}

/*
 * The ring may hold the same bytes twice: a packet and, queued later, its retransmission. A
 * qdisc sends a packet's segments in order, so a segment belongs to the packet that expects it
 * next (the oldest such packet first); failing that (a segment dropped in the qdisc), to the
 * newest packet holding its first byte. A bpf_loop() callback: the verifier checks it once,
 * where an unrolled search over the ring keeping two candidates does not fit its budget.
 */
struct gso_find {
	struct tx_sock *ts;
	__u32 seq;
	__u32 exact, newest;   /* ring indexes, NW_GSO_RING: none */
	__u64 exact_t, newest_t;
};

static long gso_find_one(__u64 i, struct gso_find *f)
{
	struct tx_gso *cand = &f->ts->gso[i & (NW_GSO_RING - 1)];

	if (!cand->t_queue)
		return 0;
	/* a qdisc sends in order: the packet that ends where this segment starts is done */
	if (cand->end == f->seq)
		gso_done(cand);
	if (before(f->seq, cand->seq) || !before(f->seq, cand->end))
		return 0;
	if (f->seq == cand->next && (f->exact == NW_GSO_RING || cand->t_queue < f->exact_t)) {
		f->exact = i;
		f->exact_t = cand->t_queue;
	}
	if (f->newest == NW_GSO_RING || cand->t_queue > f->newest_t) {
		f->newest = i;
		f->newest_t = cand->t_queue;
	}
	return 0;
}

/* Has sk had a GSO packet noted in its ring (note_gso())? */
static __always_inline int gso_noted(const struct sock *sk)
{
	__u64 sk_key = (__u64)sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &sk_key);
	return ts && ts->gso_next;
}

/* A segment of a GSO packet split after net_dev_queue: its state from the socket's GSO ring. */
static __always_inline int gso_segment_state(const struct sk_buff *skb, struct tx_state *seg)
{
	struct sock *sk = skb->sk;
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u64 sk_key = (__u64)sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &sk_key);
	if (!ts)
		return 0;
	struct nw_l4 l4 = {};
	if (nw_flow_from_skb(&seg->flow, &l4, skb) || seg->flow.proto != IPPROTO_TCP)
		return 0;
	struct gso_find f = { .ts = ts, .seq = l4.seq, .exact = NW_GSO_RING, .newest = NW_GSO_RING };
	bpf_loop(NW_GSO_RING, gso_find_one, &f, 0);
	__u32 gi = f.exact < NW_GSO_RING ? f.exact : f.newest;
	struct tx_gso *g = 0;
	if (gi < NW_GSO_RING) {
		barrier_var(gi); /* the bound stays on the index the verifier sees */
		g = &ts->gso[gi & (NW_GSO_RING - 1)];
	}
	seg->netns = nw_skb_netns(skb, 0);
	seg->seq = l4.seq;
	seg->ack = l4.ack;
	seg->len = nw_payload_len(skb, &l4);
	seg->ifindex = skb->dev->ifindex;
	seg->tcp_flags = l4.tcp_flags;
	/*
	 * A GSO skb here was not cut: it is a whole packet whose qdisc entry we did not see (the
	 * kernel ran no BPF for its net_dev_queue hit), reported from the driver on, not a segment.
	 */
	seg->flags = BPF_CORE_READ(nw_skb_shinfo(skb), gso_size) ? 0 : NW_PKT_GSO_SEG;
	seg->head = (__u64)skb->head;
	if (g) {
		if (before(g->next, l4.seq + seg->len))
			g->next = l4.seq + seg->len; /* a resent segment does not take it back */
		seg->flags |= g->flags;
		seg->no_qdisc = g->no_qdisc;
		seg->t_app = g->t_app;
		seg->t_out = g->t_out;
		seg->t_queue = g->t_queue;
		return 1;
	}
	/* Its GSO packet was not followed (--sample, a filter expression) or left our ring (more than NW_GSO_RING queued) */
	if (selective())
		return 0;
	count(NW_C_UNMATCHED); /* report the driver only */
	return nw_filter_pass(&seg->flow, seg->netns);
}
