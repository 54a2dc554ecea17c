/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, UDP receive: datagrams queued on a socket, in queue order. UDP copies
 * linear skbs with copy_linear_skb(), which has no tracepoint, so the read is seen at
 * sock_recv_length (sock_recvmsg_nosec()) without the skb: the n-th datagram read is the
 * n-th queued. A followed datagram waits in slot n % NW_UDP_SLOTS of its socket's udp_q
 * when that slot is free (the common, shallow queue: no table update); when the queue is
 * deeper (a flood, a slow reader: iperf3 -u -l 64 queues hundreds) it waits in udp_seq under
 * (socket, n) instead, so a queue of any depth is followed. The keyed table costs about
 * 1 us more per datagram (bpf_stats: ready 324 -> 741 ns, read 350 -> 916 ns when every
 * datagram went there), hence the slots first. A bitmap of NW_UDP_WINDOW numbers says which
 * datagrams wait in udp_seq, so one we did not see (queued before start, not sampled) costs
 * no lookup, and one the LRU table lost is counted as evicted, never misattributed. Queues
 * deeper than the window are looked up datagram by datagram.
 */
#define NW_UDP_SLOTS 16
#define NW_UDP_WINDOW 1024
#define NW_UDP_EARLY 2
#define MSG_PEEK 2
#define MSG_TRUNC 0x20

struct udp_rx {
	struct nw_flow flow;
	__u32 netns, ifindex, len, pad;
	__u64 t_drv, t_rcv, t_in, t_q;
};

struct udp_slot {
	__u32 enq;                            /* the datagram's enqueue number */
	__u32 used;
	struct udp_rx r;
};

struct udp_q {
	__u32 enq, deq;                       /* enqueue numbers of the next queued and the next read */
	/* early[i]: datagram early_n[i] was read, at early_t[i], before its sk_data_ready (two may wait) */
	__u32 early_n[NW_UDP_EARLY], early[NW_UDP_EARLY];
	__u64 early_t[NW_UDP_EARLY];
	__u64 held[NW_UDP_WINDOW / 64];       /* bit n % NW_UDP_WINDOW: datagram n waits in udp_seq */
	struct udp_slot s[NW_UDP_SLOTS];
};

struct udp_seq_key {
	__u64 sk;
	__u32 n;
	__u32 pad;
};

/*
 * LOCAL_IN to sk_data_ready is one synchronous call chain on one CPU (ip_local_deliver_finish()
 * -> udp_rcv() -> __udp_enqueue_schedule_skb() -> sk_data_ready, or ip6_input_finish() ->
 * udpv6_rcv()), so a datagram's times wait in per-CPU scratch there, not in a table keyed by
 * skb: no hash update, lookup and delete per datagram. sk_data_ready takes what the scratch
 * holds (the datagram this CPU's LOCAL_IN handed to UDP just before) when its destination port
 * is the socket's; a datagram the socket did not queue (receive buffer full, a filter) fires no
 * sk_data_ready and is overwritten by the next one.
 */
struct udp_rx_cpu {
	__u64 head;                      /* skb->head of the datagram waiting; 0: none */
	struct udp_rx r;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct udp_rx_cpu);
} udp_rx_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 4096);
	__type(key, __u64);              /* struct sock address */
	__type(value, struct udp_q);
} udp_q SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 32768);
	__type(key, struct udp_seq_key);
	__type(value, struct udp_rx);
} udp_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct udp_q);
} udp_q_zero SEC(".maps");

static __always_inline __u64 *udp_held_word(struct udp_q *q, __u32 n)
{
	return &q->held[(n / 64) % (NW_UDP_WINDOW / 64)];
}

/* Datagrams still queued on a UDP socket: those udp_recvmsg() has not dequeued yet. */
static __always_inline __u32 udp_queued(struct sock *sk)
{
	return sk->sk_receive_queue.qlen + BPF_CORE_READ((struct udp_sock *)sk, reader_queue.qlen);
}

/* LOCAL_IN of a datagram: its times wait in this CPU's scratch for the socket queue. */
static __always_inline void udp_rx_arrived(__u64 head, const struct udp_rx *u)
{
	__u32 zero = 0;
	struct udp_rx_cpu *c = bpf_map_lookup_elem(&udp_rx_cpu, &zero);

	if (!c)
		return;
	c->r = *u;
	c->head = head;
}

/*
 * The record of a datagram read now (ret bytes, or its length with MSG_TRUNC). sk: 0 when
 * the reader is the current task, else the socket (a read seen from sk_data_ready).
 */
static __always_inline void udp_emit(void *ctx, const struct udp_rx *u, int ret, int flags, __u64 now,
				     const struct sock *sk)
{
	if ((__u32)ret != u->len && !(flags & MSG_TRUNC)) {
		count(NW_C_UNMATCHED); /* not the datagram we expected: do not guess */
		return;
	}
	int in_task = ctx ? pkt_in_task(ctx) : 0;
	if (!nw_owner_pass_at(sk, in_task, 0))
		return;
	struct packet_event *e = new_packet(now, in_task, 0, NW_DIR_RX, &u->flow, u->netns, sk);
	if (e) {
		layer(e, NW_L_DRIVER, u->t_drv, u->t_rcv);
		layer(e, NW_L_IP, u->t_rcv, u->t_in);
		layer(e, NW_L_TRANSPORT, u->t_in, u->t_q);
		layer(e, NW_L_SOCKET, u->t_q, now);
		e->len = u->len;
		e->ifindex = u->ifindex;
		publish(e);
	}
	add_totals(u->netns, &u->flow, NW_DIR_RX, u->len);
}

/* Which early mark (udp_read_done()) names datagram n, or -1. */
static __always_inline int udp_early_find(struct udp_q *q, __u32 n)
{
	if (q->early[0] && q->early_n[0] == n)
		return 0;
	if (q->early[1] && q->early_n[1] == n)
		return 1;
	return -1;
}

/* sk_data_ready of a UDP socket: __udp_enqueue_schedule_skb() queued the skb at the tail just before. */
static __always_inline void udp_rx_queued(struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct udp_q *q = bpf_map_lookup_elem(&udp_q, &key);
	struct udp_rx *u = 0;
	__u32 zero = 0;
	struct udp_rx_cpu *c = bpf_map_lookup_elem(&udp_rx_cpu, &zero);
	/*
	 * The datagram this CPU's LOCAL_IN handed to UDP is the one __udp_enqueue_schedule_skb()
	 * just queued (one call chain). Not the queue's tail: the queue lock is released before
	 * sk_data_ready, and a reader on another CPU may splice the queue into its reader_queue
	 * in between (with RPS it often did), which left the datagram unnumbered and its record
	 * silently missing. Its destination port must be this socket's.
	 */
	if (c && c->head && c->r.flow.dport == sk->__sk_common.skc_num)
		u = &c->r;
	if (!q) {
		if (!u)
			return;
		q = nw_lookup_or_zero(&udp_q, &key, &udp_q_zero);
		if (!q)
			return;
		/* Datagrams already queued before this one are read first: number them below 0. */
		__u32 queued = udp_queued(sk);
		if (!queued) {
			/*
			 * The socket's first followed datagram, queued just before, is no longer queued: a
			 * reader on another CPU took it between the queue lock's release and here, and its
			 * read found no udp_q yet (udp_read_done() then marks nothing). Report it now, its
			 * socket time 0, and number the next one 1; else every later read would take the
			 * times of the datagram before it and the last record would be silently missing.
			 */
			q->enq = 1;
			q->deq = 1;
			u->t_q = now;
			udp_emit(0, u, u->len, 0, now, sk);
			c->head = 0;
			return;
		}
		q->enq = 0;
		q->deq = 0 - (queued - 1);
	}
	__u32 n = q->enq++;
	int e = udp_early_find(q, n);
	if (e >= 0 && u && u->t_in > q->early_t[e & 1]) {
		/*
		 * The datagram read "early" was not this one: this one reached LOCAL_IN after that read.
		 * That datagram's sk_data_ready ran no BPF (bench/tracepoint-misses.sh) and its record
		 * is lost: counted, and this datagram takes the next number instead of reporting as it
		 * (which may be marked early too: the reader took it while this ran).
		 */
		q->early[e & 1] = 0;
		count(NW_C_RX_UNSEEN);
		n = q->enq++;
		e = udp_early_find(q, n);
	}
	if (e >= 0) {
		/*
		 * A reader on another CPU took this datagram between the queue lock's release and
		 * sk_data_ready (udp_read_done() found nothing for it): report it now, its socket
		 * time 0 (it was read as soon as it was queued).
		 */
		q->early[e & 1] = 0;
		if (u) {
			u->t_q = now;
			udp_emit(0, u, u->len, 0, now, sk);
			c->head = 0;
		}
		return;
	}
	__u64 *held = udp_held_word(q, n);
	__u64 bit = 1ULL << (n % 64);
	*held &= ~bit;
	if (u) {
		struct udp_slot *slot = &q->s[n % NW_UDP_SLOTS];
		u->t_q = now;
		/* free, or left by a datagram the reads already passed */
		if (!slot->used || before(slot->enq, q->deq)) {
			slot->r = *u;
			slot->enq = n;
			slot->used = 1;
		} else {
			struct udp_seq_key k = {.sk = key, .n = n};
			if (bpf_map_update_elem(&udp_seq, &k, u, BPF_ANY))
				count(NW_C_EVICTED);
			else
				*held |= bit;
		}
		c->head = 0;
	}
}

static __always_inline void sock_ready(struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	__u16 proto = sk->sk_protocol;

	if (family != AF_INET && family != AF_INET6)
		return;
	if (proto == IPPROTO_TCP && (nw_modes & NW_MODE_TCP))
		tcp_rx_queued(sk, bpf_ktime_get_ns());
	else if (proto == IPPROTO_UDP && (nw_modes & NW_MODE_UDP))
		udp_rx_queued(sk, bpf_ktime_get_ns());
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(nw_pkt_ready, struct sock *sk)
{
	NW_FLOOR_RETURN(0);
	sock_ready(sk);
	return 0;
}

/*
 * Kernels without the sk_data_ready tracepoint (6.1; it came in 6.5 and fires at the top of
 * sock_def_readable()): sock_def_readable() itself, the sk_data_ready of TCP and UDP sockets
 * (a socket whose sk_data_ready was replaced, e.g. by sockmap, is not seen there).
 */
SEC("fentry/sock_def_readable")
int BPF_PROG(nw_pkt_ready_f1, struct sock *sk)
{
	NW_FLOOR_RETURN(0);
	sock_ready(sk);
	return 0;
}

/* Datagram n's times, if followed: from its slot, or from udp_seq (deep queues). 0: none. */
static __always_inline int udp_take(void *ctx, struct udp_q *q, __u64 key, __u32 n, int ret, int flags, __u64 now)
{
	struct udp_slot *slot = &q->s[n % NW_UDP_SLOTS];
	if (slot->used && slot->enq == n) {
		slot->used = 0;
		udp_emit(ctx, &slot->r, ret, flags, now, 0);
		return 1;
	}
	__u64 *held = udp_held_word(q, n);
	__u64 bit = 1ULL << (n % 64);
	/*
	 * Deeper than the window, datagram n + NW_UDP_WINDOW (queued already) shares n's bit: look
	 * n up whatever the bit says and leave the bit to it; a miss there is not counted (n may
	 * simply not have been followed).
	 */
	int aliased = q->enq - n > NW_UDP_WINDOW;
	if (!aliased) {
		if (!(*held & bit))
			return 0;
		*held &= ~bit;
	}
	struct udp_seq_key k = {.sk = key, .n = n};
	struct udp_rx *u = bpf_map_lookup_elem(&udp_seq, &k);
	if (!u) {
		if (!aliased)
			count(NW_C_EVICTED); /* followed, then pushed out of the LRU table */
		return 1;
	}
	udp_emit(ctx, u, ret, flags, now, 0);
	/* last: a preallocated table may hand the element to the next update at once */
	bpf_map_delete_elem(&udp_seq, &k);
	return 1;
}

/*
 * Datagrams n up to m (not m) were read by reads the kernel ran no BPF for (the queue says the
 * read that ended now took m): their times wait in their slots or in udp_seq and would stay
 * there. Their records are lost: counted and freed. At most 4 a read (one missed hit is the
 * usual case); more are left to the slots' reuse.
 */
static __always_inline void udp_unread(struct udp_q *q, __u64 key, __u32 n, __u32 m)
{
	for (int k = 0; k < 4; k++) {
		__u32 i = n + k;
		if (!before(i, m))
			break;
		struct udp_slot *slot = &q->s[i % NW_UDP_SLOTS];
		if (slot->used && slot->enq == i) {
			slot->used = 0;
			count(NW_C_RX_UNSEEN);
			continue;
		}
		__u64 *held = udp_held_word(q, i);
		__u64 bit = 1ULL << (i % 64);
		if (*held & bit) {
			struct udp_seq_key sk = {.sk = key, .n = i};
			*held &= ~bit;
			bpf_map_delete_elem(&udp_seq, &sk);
			count(NW_C_RX_UNSEEN);
		}
	}
}

/* A read of a UDP socket ended: ret bytes (or the datagram's length with MSG_TRUNC), or -errno. */
static __always_inline void udp_read_done(void *ctx, struct sock *sk, int ret, int flags)
{
	__u64 key = (__u64)sk;

	if (ret < 0 || (flags & MSG_PEEK) || sk->sk_protocol != IPPROTO_UDP)
		return;
	struct udp_q *q = bpf_map_lookup_elem(&udp_q, &key);
	if (!q)
		return;
	__u64 now = bpf_ktime_get_ns();
	__u32 n = q->deq++;
	/*
	 * The datagram just read is, by the queue, the one queued before those still waiting:
	 * number enq - 1 - queued. When that differs from the reads' own count, the count is off:
	 * an sk_data_ready or a read the tool did not see (the kernel runs no BPF for a tracepoint
	 * hit now and then: bench/tracepoint-misses.sh). Counting on would then miss (or misname)
	 * every later datagram of the socket, so the queue's number is tried first and the count
	 * follows it. (A datagram queued but not yet through sk_data_ready makes the queue's number
	 * one too low: its slot holds nothing and the count is kept.)
	 */
	__u32 m = q->enq - 1 - udp_queued(sk);
	if (m != n && udp_take(ctx, q, key, m, ret, flags, now)) {
		if (before(n, m))
			udp_unread(q, key, n, m);
		q->deq = m + 1;
		return;
	}
	if (!udp_take(ctx, q, key, n, ret, flags, now) && !before(n, q->enq)) {
		/*
		 * Not queued yet by our count: its sk_data_ready is still to run (see udp_rx_queued()),
		 * or ran no BPF. A free mark, else the older one (its datagram is then lost: counted).
		 */
		int i = !q->early[0] ? 0 : !q->early[1] ? 1 : before(q->early_n[0], q->early_n[1]) ? 0 : 1;
		if (q->early[i & 1])
			count(NW_C_RX_UNSEEN);
		q->early_n[i & 1] = n;
		q->early_t[i & 1] = now;
		q->early[i & 1] = 1;
	}
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(nw_pkt_read, struct sock *sk, int ret, int flags)
{
	NW_FLOOR_RETURN(0);
	udp_read_done(ctx, sk, ret, flags);
	return 0;
}

/*
 * Kernels without the sock_recv_length tracepoint (6.1; it came in 6.3, at the end of
 * sock_recvmsg_nosec()): the exits of udp_recvmsg() and udpv6_recvmsg(), which return what
 * inet_recvmsg() / inet6_recvmsg() and then sock_recvmsg() return.
 */
SEC("fexit/udp_recvmsg")
int BPF_PROG(nw_pkt_read_f1, struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len, int ret)
{
	NW_FLOOR_RETURN(0);
	udp_read_done(ctx, sk, ret, flags);
	return 0;
}

SEC("fexit/udpv6_recvmsg")
int BPF_PROG(nw_pkt_read_f2, struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len, int ret)
{
	NW_FLOOR_RETURN(0);
	udp_read_done(ctx, sk, ret, flags);
	return 0;
}
