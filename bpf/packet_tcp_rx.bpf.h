/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, TCP receive. A segment's device and IP times come from packet_rx.bpf.h at
 * LOCAL_IN, where the socket is not known yet (ip_local_deliver() runs before the socket
 * lookup): the segment is appended to a per-flow ring, in arrival order, keyed by the
 * flow as the socket sees it. Three positions walk the ring:
 *   head    next free slot (LOCAL_IN appends)
 *   queued  first segment not yet in the socket's receive queue: sk_data_ready
 *           (sock_def_readable(), after tcp_data_queue() advanced rcv_nxt) stamps every
 *           segment from here whose end is at or below rcv_nxt
 *   tail    first segment not yet copied to the application: skb_copy_datagram_iovec
 *           (skb_copy_datagram_iter(), called by tcp_recvmsg_locked() before it advances
 *           copied_seq) reports every segment from here that starts below the copy's end
 * so each hook touches only the segments it finishes, not the whole ring. A segment that
 * arrives out of order waits behind the ones before it (its socket layer may then be
 * missing or long); a full ring evicts its oldest segment and counts it.
 */
/*
 * A power of 2. 128 was measured too few: a 1 GiB iperf3 transfer over veth evicted
 * 336-1403 segments of 64 KiB (tcp_rmem allows 6 MiB queued, plus the out-of-order queue
 * and segments TCP dropped, which stay in the ring until passed). 256 still evicted 9-349
 * per 4-s bench run when the receiver fell behind (-t -u -n, iperf3 -P 4; tcp_rmem's max is
 * 32 MiB here); 512 evicted none (bench/runs/2026-11-25-engine3). Half as many flows keep
 * the table at 10 MiB.
 */
#define NW_RX_SLOTS 512

struct rx_slot {
	__u32 seq, len, ack, ifindex;
	__u32 d_drv, d_rcv;      /* t_in - device time, t_in - IP receive time; 0 = not seen */
	__u32 d_q;               /* in the socket queue - t_in; 0 = not yet */
	__u8 tcp_flags, pad[3];
	__u64 t_in;
};

struct rx_flow {
	__u32 head, queued, tail, pad;
	struct rx_slot s[NW_RX_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 512);        /* 10 MiB: flows receiving at once; the LRU drops the oldest */
	__type(key, struct flow_key);    /* local view: saddr is ours */
	__type(value, struct rx_flow);
} rx_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_flow);
} rx_flow_zero SEC(".maps");

/* b - a in ns as a nonzero u32 (0 means "not seen"; saturates at 4.29 s), 0 when either is unknown. */
static __always_inline __u32 rx_delta(__u64 b, __u64 a)
{
	if (!a || !b || a > b)
		return 0;
	__u64 d = b - a;
	return d == 0 ? 1 : d > 0xffffffffULL ? 0xffffffff : (__u32)d;
}

/* LOCAL_IN of a TCP segment with payload: append it to its flow's ring. */
static __always_inline void tcp_rx_append(const struct nw_flow *wire, __u32 netns, const struct nw_l4 *l4, __u32 len,
					  __u32 ifindex, __u64 t_drv, __u64 t_rcv, __u64 t_in)
{
	struct flow_key k = {.netns = netns, .flow = *wire};
	nw_flow_reverse(&k.flow);
	struct rx_flow *rf = nw_lookup_or_zero(&rx_flow, &k, &rx_flow_zero);
	if (!rf)
		return;
	__u32 head = rf->head;
	if (head - rf->tail >= NW_RX_SLOTS) {
		count(NW_C_EVICTED); /* the oldest segment is overwritten */
		rf->tail = head - NW_RX_SLOTS + 1;
		if (before(rf->queued, rf->tail))
			rf->queued = rf->tail;
	}
	struct rx_slot *s = &rf->s[head & (NW_RX_SLOTS - 1)];
	s->seq = l4->seq;
	s->len = len;
	s->ack = l4->ack;
	s->ifindex = ifindex;
	s->tcp_flags = l4->tcp_flags;
	s->d_drv = rx_delta(t_in, t_drv);
	s->d_rcv = rx_delta(t_in, t_rcv);
	s->t_in = t_in;
	s->d_q = 0;
	rf->head = head + 1;
}

static __always_inline void tcp_rx_queued(const struct sock *sk, __u64 now)
{
	struct flow_key k = {.netns = nw_sk_netns(sk)};
	local_flow_of_sk(&k.flow, sk);
	struct rx_flow *rf = bpf_map_lookup_elem(&rx_flow, &k);
	if (!rf)
		return;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((struct sock *)sk);
	if (!tp)
		return;
	__u32 rcv_nxt = tp->rcv_nxt;
	__u32 q = rf->queued, head = rf->head;
	for (int i = 0; i < NW_RX_SLOTS && q != head; i++) {
		struct rx_slot *s = &rf->s[q & (NW_RX_SLOTS - 1)];
		if (before(rcv_nxt, s->seq + s->len))
			break;
		s->d_q = rx_delta(now, s->t_in);
		q++;
	}
	rf->queued = q;
}

/* What one copy call reports, for the bpf_loop() callback. */
struct tcp_copy {
	struct rx_flow *rf;
	struct nw_flow wire;
	__u32 netns, from, to;
	__u64 now;
	int in_task;
	int pass; /* the reader passes --pid/--comm/--cgroup */
};

static __always_inline void emit_tcp_slot(struct tcp_copy *c, struct rx_slot *s, int copied_now)
{
	if (!c->pass)
		return;
	struct packet_event *e = new_packet(c->now, c->in_task, 0, NW_DIR_RX, &c->wire, c->netns, 0);
	if (e) {
		if (s->d_drv && s->d_rcv)
			layer(e, NW_L_DRIVER, s->t_in - s->d_drv, s->t_in - s->d_rcv);
		if (s->d_rcv)
			layer(e, NW_L_IP, s->t_in - s->d_rcv, s->t_in);
		if (s->d_q) {
			layer(e, NW_L_TRANSPORT, s->t_in, s->t_in + s->d_q);
			if (copied_now)
				layer(e, NW_L_SOCKET, s->t_in + s->d_q, c->now);
		}
		e->seq = s->seq;
		e->ack = s->ack;
		e->len = s->len;
		e->ifindex = s->ifindex;
		e->tcp_flags = s->tcp_flags;
		if (nw_snaplen)
			e->cap_key = s->t_in;
		publish(e);
	}
	add_totals(c->netns, &c->wire, NW_DIR_RX, s->len);
}

static long tcp_copy_one(__u32 i, void *arg)
{
	struct tcp_copy *c = arg;
	struct rx_flow *rf = c->rf;
	__u32 t = rf->tail;

	if (t == rf->head)
		return 1;
	struct rx_slot *s = &rf->s[t & (NW_RX_SLOTS - 1)];
	if (!before(s->seq, c->to))
		return 1; /* starts at or after the end of this copy */
	int copied_now = !before(s->seq, c->from);
	if (!copied_now)
		count(NW_C_UNMATCHED); /* its first byte left by a path we do not trace */
	emit_tcp_slot(c, s, copied_now);
	rf->tail = t + 1;
	if (before(rf->queued, rf->tail))
		rf->queued = rf->tail;
	return 0;
}

static __always_inline void tcp_rx_copied(void *ctx, const struct sock *sk, int len, __u64 now)
{
	struct tcp_copy c = {.netns = nw_sk_netns(sk), .now = now};
	struct flow_key k = {.netns = c.netns};
	local_flow_of_sk(&k.flow, sk);
	c.rf = bpf_map_lookup_elem(&rx_flow, &k);
	if (!c.rf)
		return;
	c.wire = k.flow;
	nw_flow_reverse(&c.wire);
	/* tcp_recvmsg_locked() advances copied_seq after the copy: it is where this copy starts. */
	/* skb->sk is an RCU pointer, which bpf_skc_to_tcp_sock() does not take: one helper read */
	c.from = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
	c.to = c.from + (__u32)len;
	c.in_task = pkt_in_task(ctx);
	c.pass = nw_owner_pass_at(0, c.in_task, 0);
	bpf_loop(NW_RX_SLOTS, tcp_copy_one, &c, 0);
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(nw_pkt_copy, const struct sk_buff *skb, int len)
{
	NW_FLOOR_RETURN(0);
	__u64 now = bpf_ktime_get_ns();
	struct sock *sk = skb->sk;

	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	tcp_rx_copied(ctx, sk, len, now);
	return 0;
}

/*
 * A TCP socket that reaches CLOSE takes its correlation state with it (tcp_set_state()
 * fires inet_sock_set_state), so the per-socket and per-flow tables hold live connections
 * and a long run with many short connections keeps them small. Flow totals stay: they are
 * the run's record of the flow.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_pkt_close, const struct sock *sk, const int oldstate, const int newstate)
{
	NW_FLOOR_RETURN(0);
	if (newstate != TCP_CLOSE || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &key);
	if (ts) {
		tcp_drv_close(ts, oldstate, BPF_CORE_READ((struct tcp_sock *)sk, snd_nxt));
		bpf_map_delete_elem(&tx_sock, &key);
	}
	struct flow_key k = {.netns = nw_sk_netns(sk)};
	local_flow_of_sk(&k.flow, sk);
	/* tcp_set_state() releases the local port (inet_put_port(): inet_num = 0) before this
	 * tracepoint fires; inet_sport still holds it */
	if (!k.flow.sport)
		k.flow.sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	bpf_map_delete_elem(&rx_flow, &k);
	return 0;
}

/*
 * The close once more, from a hook that is not a tracing program. The kernel now and then runs no
 * tracing program for a whole softirq (BENCHMARKS.md "Every miss counted"): when the last packets
 * of an orphaned socket leave in tbf's softirq, the ACK of their FIN comes back through veth in the
 * same softirq and closes the socket there (tcp_rcv_state_process(): FIN_WAIT1 -> FIN_WAIT2 ->
 * tcp_time_wait() -> tcp_done()), so the tail's driver hooks and inet_sock_set_state miss together
 * and the tail went uncounted. tcp_set_state() calls the sockops program first (BPF_SOCK_OPS_STATE_CB,
 * for sockets whose bpf_sock_ops_cb_flags ask for it, set here when a connection is established),
 * and cgroup programs run in those softirqs (the netfilter program did in the trace). Attached to
 * the cgroup root; a connection established before netwatcher started has only the tracepoint.
 */
SEC("sockops")
int nw_pkt_sops(struct bpf_sock_ops *skops)
{
	NW_FLOOR_RETURN(1);
	__u32 op = skops->op;

	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		/* other programs' flags stay (bpf_sock_ops_cb_flags_set() replaces them all) */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		return 1;
	}
	if (op != BPF_SOCK_OPS_STATE_CB || skops->args[1] != TCP_CLOSE)
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return 1;
	__u64 key = (__u64)sk; /* the struct sock's address, as the tracing programs key it */
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &key);
	if (ts) {
		tcp_drv_close(ts, skops->args[0], skops->snd_nxt);
		bpf_map_delete_elem(&tx_sock, &key);
	}
	return 1;
}
