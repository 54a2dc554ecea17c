/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, send path (packet_tx.bpf.h), the driver and completion: net_dev_start_xmit finds
 * each packet's (or segment's) state, the record is made at net_dev_xmit.
 */
/*
 * -w: the frame as the driver gets it, when its record will pass the owner options (emit_tx() asks the
 * same of the same socket and context); an echo reply's record is the icmp_event, which has no cap_key.
 */
static __always_inline void capture_tx(void *ctx, const struct sk_buff *skb, const struct tx_state *st)
{
	if (nw_snaplen && !st->echo_reply && nw_owner_pass_at(skb->sk, pkt_in_task(ctx), 0))
		capture(skb, st->netns, NW_DIR_TX, st->t_start);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(nw_pkt_start, const struct sk_buff *skb, const struct net_device *dev)
{
	NW_FLOOR_RETURN(0);
	__u64 key = (__u64)skb;
	struct tx_cpu *c = tx_scratch();
	if (!c)
		return 0;
	int i = tx_scratch_find(c, key, (__u64)skb->head);
	if (i >= 0 && i < NW_TX_SCRATCH) {
		c->st[i].t_start = bpf_ktime_get_ns();
		capture_tx(ctx, skb, &c->st[i]);
		return 0;
	}
	if (tx_in_table > 0) {
		struct tx_state *st = tx_entry(skb, key);
		if (st) {
			st->t_start = bpf_ktime_get_ns();
			capture_tx(ctx, skb, st);
			return 0;
		}
	}
	if (!(nw_modes & NW_MODE_TCP))
		return 0;
	struct sock *sk = skb->sk;
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/*
	 * --sample or an expression: a packet found neither in the scratch nor in the table was not
	 * followed, unless it is a segment cut from a followed GSO packet. A GSO packet still whole
	 * (gso_size set) is not such a segment, and a socket that never had a followed GSO packet noted
	 * (gso_next 0) has none: both leave here, before the slot, the parse and the ring search.
	 */
	if (selective() && (BPF_CORE_READ(nw_skb_shinfo(skb), gso_size) || !gso_noted(sk)))
		return 0;
	/* maybe a segment of a GSO packet split after net_dev_queue; start to xmit is synchronous */
	__u32 j = tx_scratch_claim(c, key, (__u64)skb->head, bpf_ktime_get_ns());
	if (j >= NW_TX_SCRATCH)
		return 0;
	struct tx_state *seg = &c->st[j];
	__builtin_memset(seg, 0, sizeof(*seg));
	if (!gso_segment_state(skb, seg))
		return 0;
	seg->t_start = bpf_ktime_get_ns();
	c->skb[j] = key;
	capture_tx(ctx, skb, seg);
	return 0;
}

static __always_inline void emit_echo(void *ctx, struct tx_state *st, __u64 now)
{
	if (!nw_owner_pass_at(0, 0, 0)) /* the kernel answers a ping: no process owns it */
		return;
	struct icmp_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return;
	nw_fill_hdr_at(&e->hdr, NW_EV_ICMP, st->netns, now, nw_in_task_context(ctx), 0, 0);
	e->flow = st->flow;
	nw_flow_reverse(&e->flow); /* the request's direction */
	__builtin_memset(e->rx_ns, 0, sizeof(e->rx_ns));
	__builtin_memset(e->tx_ns, 0, sizeof(e->tx_ns));
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	e->rx_mask = e->tx_mask = 0;
	struct icmp_req *r = &st->req;
	if (r->t_drv && r->t_rcv) { e->rx_ns[0] = r->t_rcv - r->t_drv; e->rx_mask |= 1; }
	if (r->t_rcv && r->t_in) { e->rx_ns[1] = r->t_in - r->t_rcv; e->rx_mask |= 2; }
	e->icmp_ns = st->t_out - r->t_in;
	if (st->t_out && st->t_queue) { e->tx_ns[0] = st->t_queue - st->t_out; e->tx_mask |= 1; }
	if (st->no_qdisc) {
		__u64 from = st->t_queue ? st->t_queue : st->t_start;
		if (from) { e->tx_ns[2] = now - from; e->tx_mask |= 4; }
	} else {
		if (st->t_queue && st->t_start) { e->tx_ns[1] = st->t_start - st->t_queue; e->tx_mask |= 2; }
		if (st->t_start) { e->tx_ns[2] = now - st->t_start; e->tx_mask |= 4; }
	}
	__u64 first = r->t_drv ? r->t_drv : r->t_rcv ? r->t_rcv : r->t_in;
	e->total_ns = now - first;
	e->id = st->icmp_id;
	e->seq = st->icmp_seq;
	e->ifindex = st->ifindex;
	nw_submit(e);
}

/* sk: the sending socket (skb->sk at the driver), whose owner the record names. */
static __always_inline void emit_tx(void *ctx, struct tx_state *st, __u64 now, const struct sock *sk)
{
	if (st->echo_reply) {
		emit_echo(ctx, st, now);
		return;
	}
	if (st->flow.proto == IPPROTO_TCP)
		tcp_drv_seen(sk, st);
	int in_task = pkt_in_task(ctx);
	if (!nw_owner_pass_at(sk, in_task, 0))
		return;
	struct packet_event *e = new_packet(now, in_task, 0, NW_DIR_TX, &st->flow, st->netns, sk);
	if (e) {
		if (st->len)
			layer(e, NW_L_TRANSPORT, st->t_app, st->t_out);
		layer(e, NW_L_IP, st->t_out, st->t_queue);
		if (st->no_qdisc) {
			layer(e, NW_L_DRIVER, st->t_queue ? st->t_queue : st->t_start, now);
		} else {
			layer(e, NW_L_QDISC, st->t_queue, st->t_start);
			layer(e, NW_L_DRIVER, st->t_start, now);
		}
		e->seq = st->seq;
		e->ack = st->ack;
		e->len = st->len;
		e->ifindex = st->ifindex;
		e->tcp_flags = st->tcp_flags;
		e->flags = st->flags;
		e->icmp_type = st->icmp_type;
		e->icmp_code = st->icmp_code;
		if (nw_snaplen)
			e->cap_key = st->t_start;
		publish(e);
	}
	if (st->flow.proto != IPPROTO_ICMP && st->flow.proto != NW_IPPROTO_ICMPV6)
		add_totals(st->netns, &st->flow, NW_DIR_TX, st->len);
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(nw_pkt_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int skb_len)
{
	NW_FLOOR_RETURN(0);
	__u64 key = (__u64)skb;

	/* NETDEV_TX_BUSY: not consumed, requeued (dev_requeue_skb()), sent again: the state waits */
	if (rc == NW_NETDEV_TX_BUSY)
		return 0;
	struct tx_cpu *c = tx_scratch();
	if (!c)
		return 0;
	/*
	 * Any other rc but NETDEV_TX_OK: the driver consumed the skb without sending it (veth_xmit()
	 * returns NET_XMIT_DROP when the peer's backlog is full; dev_xmit_complete()). No record: it
	 * did not leave. TCP did not advance snd_nxt (tcp_transmit_skb() failed) and sends the same
	 * bytes again as new data, which are reported then.
	 */
	int sent = rc == 0;
	int i = tx_scratch_find(c, key, (__u64)skb->head);
	if (i >= 0 && i < NW_TX_SCRATCH) {
		if (sent)
			emit_tx(ctx, &c->st[i], bpf_ktime_get_ns(), skb->sk);
		c->skb[i] = 0;
		return 0;
	}
	if (tx_in_table <= 0)
		return 0;
	struct tx_state *st = tx_entry(skb, key);
	if (!st)
		return 0;
	if (sent)
		emit_tx(ctx, st, bpf_ktime_get_ns(), skb->sk);
	if (!bpf_map_delete_elem(&tx_pkt, &key))
		__sync_fetch_and_add(&tx_in_table, -1);
	return 0;
}
