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
#define NW_UDP_READ_EARLY 1
#define NW_UDP_REPORTED 2
#define NW_UDP_HINTS 4096 /* a power of 2 */
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
	/*
	 * early[i]: datagram early_n[i] was read, at early_t[i], before its sk_data_ready (two may
	 * wait): NW_UDP_READ_EARLY, or NW_UDP_REPORTED when that read found the datagram in its
	 * CPU's scratch and reported it (udp_claim_for())
	 */
	__u32 early_n[NW_UDP_EARLY], early[NW_UDP_EARLY];
	__u64 last_in;                        /* LOCAL_IN time of the newest datagram numbered or reported */
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
 *
 * The kernel sometimes runs no tracepoint program for a whole softirq: a trace of this unit
 * showed every such miss in a softirq run on top of one task (the VM's agent), where LOCAL_IN's
 * netfilter program ran and the sk_data_ready and netif_receive_skb programs did not, for one
 * or two datagrams in a row. A reader that finds its datagram not queued by our count
 * (udp_read_done()) then takes it from the scratch itself, so the datagram is still reported:
 * whoever clears token first (cmpxchg) owns the times, sk_data_ready or a reader on any CPU.
 */
struct udp_pending {
	__u64 token;                     /* the waiting datagram's t_in; 0: none, or taken */
	struct udp_rx r;
};

/*
 * The last NW_UDP_PENDING datagrams of this CPU's LOCAL_IN: sk_data_ready takes the newest (its
 * own), a reader the oldest of its socket (a reader that lags finds two or more waiting when the
 * sk_data_ready programs of both did not run, as the trace showed).
 */
#define NW_UDP_PENDING 4 /* a power of 2 */
struct udp_rx_cpu {
	__u32 next;                      /* where the next datagram goes (mod NW_UDP_PENDING) */
	__u32 pad;
	struct udp_pending p[NW_UDP_PENDING];
};

/* Which CPU's scratch last held a datagram for (port, netns): where a reader looks (udp_claim_for()). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NW_UDP_HINTS);
	__type(key, __u32);
	__type(value, __u32);
} udp_rx_hint SEC(".maps");

static __always_inline __u32 udp_hint_slot(__u16 port, __u32 netns)
{
	return (port ^ (netns * 0x9E3779B1u)) & (NW_UDP_HINTS - 1);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct udp_rx_cpu);
} udp_rx_cpu SEC(".maps");

/*
 * A socket's queue numbering lives in the socket's own storage: it is freed with the socket
 * (bpf_sk_storage_free() in __sk_destruct()), so a new socket at a freed one's address starts
 * fresh. Keyed by address in an LRU table it did not: the next socket inherited the old one's
 * numbers, slots and early marks (a test's receivers, one per round, all reused one address).
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_q);
} udp_q SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 32768);
	__type(key, struct udp_seq_key);
	__type(value, struct udp_rx);
} udp_seq SEC(".maps");


static __always_inline __u64 *udp_held_word(struct udp_q *q, __u32 n)
{
	return &q->held[(n / 64) % (NW_UDP_WINDOW / 64)];
}

/* Datagrams still queued on a UDP socket: those udp_recvmsg() has not dequeued yet. */
static __always_inline __u32 udp_queued(struct sock *sk)
{
	return sk->sk_receive_queue.qlen + BPF_CORE_READ((struct udp_sock *)sk, reader_queue.qlen);
}

/*
 * LOCAL_IN of a datagram: its times wait in this CPU's scratch for the socket queue. token is
 * cleared before the times are written and set after, so a reader on another CPU that copied
 * times being overwritten fails its claim (udp_claim()).
 */
static __always_inline void udp_rx_arrived(const struct udp_rx *u)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id();
	struct udp_rx_cpu *c = bpf_map_lookup_elem(&udp_rx_cpu, &zero);
	__u32 slot = udp_hint_slot(u->flow.dport, u->netns);
	__u32 *hint = bpf_map_lookup_elem(&udp_rx_hint, &slot);

	if (!c)
		return;
	struct udp_pending *p = &c->p[c->next & (NW_UDP_PENDING - 1)];
	*(volatile __u64 *)&p->token = 0;
	barrier();
	p->r = *u;
	barrier();
	*(volatile __u64 *)&p->token = u->t_in;
	c->next++;
	if (hint && *hint != cpu) /* written only when it changes: the line stays shared */
		*hint = cpu;
}

/*
 * Take the oldest datagram waiting in scratch c for local port and netns that reached LOCAL_IN
 * after after_t: 1 with its times in *out. The times are copied first and the claim validates
 * the copy: LOCAL_IN clears token before it overwrites them, so a torn copy fails the cmpxchg
 * (token is a time: no reuse, no ABA).
 */
static __always_inline int udp_claim(struct udp_rx_cpu *c, __u16 port, __u32 netns, __u64 after_t, struct udp_rx *out)
{
	__u64 best = 0;
	int bi = -1;

	for (int i = 0; i < NW_UDP_PENDING; i++) {
		struct udp_pending *p = &c->p[i];
		__u64 tok = *(volatile __u64 *)&p->token;
		if (tok > after_t && (!best || tok < best) && p->r.flow.dport == port && p->r.netns == netns) {
			best = tok;
			bi = i;
		}
	}
	if (bi < 0)
		return 0;
	struct udp_pending *p = &c->p[bi & (NW_UDP_PENDING - 1)];
	barrier();
	*out = p->r; /* still the entry matched above if its token is still best */
	return __sync_val_compare_and_swap(&p->token, best, 0) == best;
}

/* The datagram a reader of sk took before its sk_data_ready ran (or when it ran no BPF), from the scratch of the CPU that last had one for it. */
static __always_inline int udp_claim_for(struct sock *sk, __u64 after_t, struct udp_rx *out)
{
	__u16 port = sk->__sk_common.skc_num;
	__u32 netns = nw_sk_netns(sk);
	__u32 slot = udp_hint_slot(port, netns), zero = 0;
	__u32 *cpu = bpf_map_lookup_elem(&udp_rx_hint, &slot);

	if (!cpu)
		return 0;
	struct udp_rx_cpu *c = bpf_map_lookup_percpu_elem(&udp_rx_cpu, &zero, *cpu);
	return c && udp_claim(c, port, netns, after_t, out);
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
		if (u->t_q != u->t_in) /* equal: queued at a time not known (udp_report_taken()) */
			layer(e, NW_L_TRANSPORT, u->t_in, u->t_q);
		layer(e, NW_L_SOCKET, u->t_q, now);
		e->len = u->len;
		e->ifindex = u->ifindex;
		if (nw_snaplen)
			e->cap_key = u->t_in;
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
	struct udp_q *q = bpf_sk_storage_get(&udp_q, sk, 0, 0);
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
	if (c) {
		/* the newest: this chain's own. Its times are this CPU's: only the claim can race (a reader elsewhere) */
		struct udp_pending *p = &c->p[(c->next - 1) & (NW_UDP_PENDING - 1)];
		__u64 tok = p->token;
		if (tok && p->r.flow.dport == sk->__sk_common.skc_num &&
		    __sync_val_compare_and_swap(&p->token, tok, 0) == tok)
			u = &p->r;
	}
	if (!q) {
		if (!u)
			return;
		q = bpf_sk_storage_get(&udp_q, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
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
			q->last_in = u->t_in;
			u->t_q = now;
			udp_emit(0, u, u->len, 0, now, sk);
			return;
		}
		q->enq = 0;
		q->deq = 0 - (queued - 1);
	}
	__u32 n = q->enq++;
	int e = udp_early_find(q, n);
	if (u && u->t_in > q->last_in)
		q->last_in = u->t_in;
	/*
	 * The datagram read "early" was not this one when this one reached LOCAL_IN after that
	 * read: that datagram's sk_data_ready ran no BPF and its record is lost (counted), and this
	 * datagram takes the next number instead of reporting as it. Misses come in runs: a softirq
	 * that ran on top of another task ran no tracepoint program for several packets in a row
	 * (seen twice in a row in a test's trace), so both marks are checked, each in turn.
	 */
	for (int k = 0; k < NW_UDP_EARLY && e >= 0 && u && u->t_in > q->early_t[e & 1]; k++) {
		if (q->early[e & 1] == NW_UDP_READ_EARLY)
			count(NW_C_RX_UNSEEN);
		q->early[e & 1] = 0; /* NW_UDP_REPORTED: its reader reported it */
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
	if (!before(n, q->enq))
		return 0; /* not queued yet by our count (aliased below would wrap) */
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

/* Early mark i: datagram n was read at now before its sk_data_ready (kind: NW_UDP_READ_EARLY or NW_UDP_REPORTED). */
static __always_inline void udp_mark_early(struct udp_q *q, int i, __u32 n, __u64 now, __u32 kind)
{
	q->early_n[i & 1] = n;
	q->early_t[i & 1] = now;
	q->early[i & 1] = kind;
}

/*
 * A datagram a reader took from a CPU's scratch (udp_claim_for()): its sk_data_ready ran no BPF, so
 * when UDP queued it is not known. UDP queues a datagram in the softirq that passed LOCAL_IN, a few
 * microseconds later (udp_queue_rcv_skb() -> __udp_enqueue_schedule_skb()), so its wait in the queue
 * is counted from LOCAL_IN: the socket layer (t_q = t_in), and no transport layer (udp_emit()). Before,
 * t_q = now put a stalled reader's wait in the transport layer (CliIT's stall test: 4 of 5 on the socket).
 */
static __always_inline void udp_report_taken(void *ctx, struct udp_q *q, struct udp_rx *u, int ret, int flags, __u64 now)
{
	q->last_in = u->t_in;
	u->t_q = u->t_in;
	udp_emit(ctx, u, ret, flags, now, 0);
}

/* A read of a UDP socket ended: ret bytes (or the datagram's length with MSG_TRUNC), or -errno. */
static __always_inline void udp_read_done(void *ctx, struct sock *sk, int ret, int flags)
{
	__u64 key = (__u64)sk;

	if (ret < 0 || (flags & MSG_PEEK) || sk->sk_protocol != IPPROTO_UDP)
		return;
	struct udp_q *q = bpf_sk_storage_get(&udp_q, sk, 0, 0);
	struct udp_rx u = {}; /* zeroed: a copy made on some paths only must not merge with undefined stack (the verifier refuses that) */
	__u64 now;
	if (!q) {
		/*
		 * No followed datagram queued on sk yet by our count. The one just read may be the
		 * first, its sk_data_ready still to run on another CPU or run without BPF: then it
		 * waits in that CPU's scratch. Taken from there, it is number 0, reported now.
		 */
		if (!udp_claim_for(sk, 0, &u))
			return;
		q = bpf_sk_storage_get(&udp_q, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!q)
			return;
		now = bpf_ktime_get_ns();
		q->enq = 0;
		q->deq = 1;
		udp_mark_early(q, 0, 0, now, NW_UDP_REPORTED);
		udp_report_taken(ctx, q, &u, ret, flags, now);
		return;
	}
	now = bpf_ktime_get_ns();
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
		if (q->early[i & 1] == NW_UDP_READ_EARLY)
			count(NW_C_RX_UNSEEN);
		int mine = udp_claim_for(sk, q->last_in, &u);
		if (mine)
			udp_report_taken(ctx, q, &u, ret, flags, now);
		udp_mark_early(q, i, n, now, mine ? NW_UDP_REPORTED : NW_UDP_READ_EARLY);
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
