/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, the send path: the application's send (TCP: by socket and sequence;
 * UDP: by thread), LOCAL_OUT, the device queue, the driver. The record is made at
 * net_dev_xmit.
 *
 * Where a packet's state lives between LOCAL_OUT and the driver:
 * - On a device without a queue (noqueue: loopback, veth by default) LOCAL_OUT,
 *   net_dev_queue, net_dev_start_xmit and net_dev_xmit run one after the other on one CPU
 *   (__ip_local_out() -> ... -> __dev_queue_xmit() -> dev_hard_start_xmit()), so the
 *   state stays in per-CPU scratch (tx_cpu): no hash update, lookup or delete per packet.
 *   The scratch has NW_TX_SCRATCH slots, matched by skb address and skb->head, because
 *   a softirq can send on the same CPU between LOCAL_OUT and the device (an ACK sent
 *   while the task's packet is in ip_output()), and tunnels nest one send in another.
 * - A device with a qdisc may dequeue the packet later, on another CPU: at net_dev_queue
 *   its state moves to tx_pkt, keyed by skb address.
 */
#define NW_MARKS 16
/* A new mark within one send call only after a pause (the call slept for buffer space). */
#define NW_MARK_GAP_NS 100000
#define NW_GSO_RING 32
#define NW_TX_SCRATCH 4
#define NW_NETDEV_TX_BUSY 0x10	/* include/linux/netdevice.h */

struct tx_state {
	struct nw_flow flow;
	__u32 netns;
	__u32 seq;
	__u32 ack;
	__u32 len;
	__u32 ifindex;
	__u8 tcp_flags;
	__u8 flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u64 t_app, t_out, t_queue, t_start;
	/*
	 * skb->head when the entry was made: entries are keyed by skb address, which the slab
	 * reuses. An entry left by a packet freed before xmit must not be taken for a new skb
	 * at the same address (a GSO segment made after the qdisc, say).
	 */
	__u64 head;
	struct icmp_req req;     /* echo reply: the request's times */
	__u16 icmp_id, icmp_seq;
	__u8 echo_reply;
	__u8 no_qdisc;           /* the device has no queue (noqueue: loopback, veth by default) */
	__u8 pad[2];
};

struct tx_mark {
	__u32 seq;
	__u32 pad;
	__u64 ts;
};

/* A GSO packet queued to a device: its segments may be cut later (tbf_segment(), validate_xmit_skb()). */
struct tx_gso {
	__u32 seq, end;
	__u64 t_app, t_out, t_queue;
	__u8 flags, no_qdisc;
	__u16 mss;             /* its segment size (skb_shared_info gso_size) */
	__u32 next;            /* the first byte of its segment the driver has not started yet */
};

struct tx_sock {
	__u32 next;
	__u32 in_call;         /* a send call is between tcp_sendmsg_locked and sock_send_length */
	struct tx_mark m[NW_MARKS];
	__u32 gso_next;
	__u32 pad;
	struct tx_gso gso[NW_GSO_RING];
};

/* Per-CPU scratch of the synchronous stretch (see above); skb[i] == 0: slot free. */
struct tx_cpu {
	__u64 skb[NW_TX_SCRATCH];
	__u64 claimed[NW_TX_SCRATCH];    /* when the slot was taken */
	__u64 want_skb, want_head;       /* tx_scratch_claim()'s arguments (see there) */
	struct tx_state st[NW_TX_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tx_cpu);
} tx_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, __u64);              /* skb address */
	__type(value, struct tx_state);
} tx_pkt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 4096);
	__type(key, __u64);              /* struct sock address */
	__type(value, struct tx_sock);
} tx_sock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, __u32);              /* thread id */
	__type(value, __u64);            /* entry of its send syscall */
} udp_send SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tx_sock);
} tx_sock_zero SEC(".maps");

/*
 * Entries in tx_pkt (approximately: one left by a packet dropped in its qdisc stays counted
 * until the LRU evicts it). While it is 0, a packet missing from the scratch is not
 * looked up in tx_pkt: on hosts whose devices have no queue, packets not followed pay
 * no hash lookup at the driver.
 */
__s64 tx_in_table = 0;

/* When did the application hand TCP the byte `seq`? The latest mark at or before it. */
static __always_inline __u64 app_time(struct tx_sock *ts, __u32 seq)
{
	__u64 best_ts = 0;
	__u32 best_gap = 0xffffffff;
	for (int i = 0; i < NW_MARKS; i++) {
		struct tx_mark *m = &ts->m[i];
		if (!m->ts)
			continue;
		__u32 gap = seq - m->seq;
		if ((__s32)gap >= 0 && gap < best_gap) {
			best_gap = gap;
			best_ts = m->ts;
		}
	}
	return best_ts;
}

/*
 * Does the device send this skb without a queue? __dev_queue_xmit() takes the txq by
 * skb->queue_mapping; a qdisc without ->enqueue is noqueue and the packet goes straight
 * to the driver (on this CPU, in this call).
 */
static __always_inline int dev_noqueue(const struct sk_buff *skb, const struct net_device *dev)
{
	__u16 qm = skb->queue_mapping;          /* BTF pointers: direct loads */
	__u32 nq = dev->num_tx_queues;
	struct netdev_queue *txq = 0;
	struct Qdisc *q = 0;
	void *enqueue = 0;

	/*
	 * dev->_tx read as a plain number, not a BTF pointer: 6.1's verifier refuses arithmetic
	 * on a BTF pointer with an unbounded scalar ("math between ptr_ pointer and register").
	 */
	if (bpf_core_read(&txq, sizeof(txq), &dev->_tx) || !txq || qm >= nq)
		return 0;
	txq = (void *)txq + (__u64)qm * bpf_core_type_size(struct netdev_queue);
	if (bpf_core_read(&q, sizeof(q), &txq->qdisc) || !q)
		return 1;
	bpf_core_read(&enqueue, sizeof(enqueue), &q->enqueue);
	return !enqueue;
}

static __always_inline struct tx_cpu *tx_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tx_cpu, &zero);
}

/* A packet holds its slot for microseconds (LOCAL_OUT to the driver, on one CPU); longer, it was left. */
#define NW_TX_STALE_NS 50000000ULL

/* A slot whose packet never reached the driver's xmit: counted (packets and payload bytes), freed. */
static __always_inline void tx_scratch_unfinished(struct tx_cpu *c, __u32 i)
{
	if (i >= NW_TX_SCRATCH)
		return;
	count(NW_C_UNFINISHED);
	count_add(NW_C_UNFINISHED_BYTES, c->st[i].len);
	c->skb[i] = 0;
}

/*
 * A slot for a new packet (skb address key, skb->head head):
 * - the slot this skb already holds, if any. The skb may have left one without reaching the
 *   driver's xmit: dropped before the device, or a device tracepoint the kernel ran no BPF for
 *   (BENCHMARKS.md, bench/tracepoint-misses.sh). TCP sends such a packet again from the same
 *   clone (the fclone companion: same address, same head), and two slots with one key would
 *   report it twice.
 * - else a free one (a softirq that sends a burst of packets, each freeing its slot at xmit,
 *   then reuses one slot and leaves the others, held by packets of the task it interrupted
 *   between LOCAL_OUT and the device, alone);
 * - else the one taken longest ago.
 * Slots held longer than NW_TX_STALE_NS are freed on the way, and every slot taken back from a
 * packet that did not reach the driver is counted: a packet is reported or counted, never
 * silently lost. Marked free until it is filled.
 *
 * A global function: the verifier checks it once, not at each call site. Inlined, its loops and
 * counting branches multiplied the states of the programs around it (start-up 1.1 -> 3.6 s).
 * A global function takes scalars only (6.1, 6.12): the skb's address and head, which the
 * verifier types as pointers in the caller, come through this CPU's scratch (want_skb,
 * want_head; tx_scratch_claim() below puts them there), where they are plain numbers again.
 */
__noinline int tx_scratch_claim_slot(__u64 now)
{
	struct tx_cpu *c = tx_scratch();
	__u32 i, take = NW_TX_SCRATCH, oldest = 0;

	if (!c)
		return NW_TX_SCRATCH;
	__u64 key = c->want_skb, head = c->want_head;

	for (i = 0; i < NW_TX_SCRATCH; i++) {
		if (!c->skb[i])
			continue;
		if (c->skb[i] == key && c->st[i].head == head)
			take = i;
		else if (now - c->claimed[i] > NW_TX_STALE_NS)
			tx_scratch_unfinished(c, i);
	}
	if (take < NW_TX_SCRATCH) {
		tx_scratch_unfinished(c, take); /* its earlier send never reached the driver */
	} else {
		for (i = 0; i < NW_TX_SCRATCH; i++) {
			if (!c->skb[i]) {
				take = i;
				break;
			}
			if (c->claimed[i] < c->claimed[oldest])
				oldest = i;
		}
		if (take >= NW_TX_SCRATCH) {
			take = oldest;
			tx_scratch_unfinished(c, take);
		}
	}
	if (take >= NW_TX_SCRATCH)
		return NW_TX_SCRATCH;
	c->skb[take] = 0;
	c->claimed[take] = now;
	return take;
}

static __always_inline __u32 tx_scratch_claim(struct tx_cpu *c, __u64 key, __u64 head, __u64 now)
{
	c->want_skb = key;
	c->want_head = head;
	return (__u32)tx_scratch_claim_slot(now);
}

/*
 * Run by user space on each CPU (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU) before it reads
 * the counters, never attached: slots left behind on a CPU that sends nothing more are counted
 * too, not only when a later packet takes them back.
 */
SEC("raw_tp")
int nw_pkt_sweep(void *ctx)
{
	struct tx_cpu *c = tx_scratch();
	__u64 now = bpf_ktime_get_ns();

	if (!c)
		return 0;
	for (__u32 i = 0; i < NW_TX_SCRATCH; i++) {
		if (c->skb[i] && now - c->claimed[i] > NW_TX_STALE_NS)
			tx_scratch_unfinished(c, i);
	}
	return 0;
}

/* The scratch slot of this skb: its index, or -1. */
static __always_inline int tx_scratch_find(struct tx_cpu *c, __u64 key, __u64 head)
{
	if (c->skb[0] == key && c->st[0].head == head)
		return 0;
	if (c->skb[1] == key && c->st[1].head == head)
		return 1;
	if (c->skb[2] == key && c->st[2].head == head)
		return 2;
	if (c->skb[3] == key && c->st[3].head == head)
		return 3;
	return -1;
}

/*
 * The tx state of this skb in tx_pkt, or 0. An entry whose skb->head differs was left by
 * an earlier packet at the same address (freed before xmit): deleted, not taken for this one.
 */
static __always_inline struct tx_state *tx_entry(const struct sk_buff *skb, __u64 key)
{
	struct tx_state *st = bpf_map_lookup_elem(&tx_pkt, &key);

	if (st && st->head != (__u64)skb->head) {
		if (!bpf_map_delete_elem(&tx_pkt, &key))
			__sync_fetch_and_add(&tx_in_table, -1);
		return 0;
	}
	return st;
}

/* ---------------------------------------------------------------- the application's send */

static __always_inline void app_send_mark(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	struct tx_sock *ts = nw_lookup_or_zero(&tx_sock, &key, &tx_sock_zero);

	if (!ts)
		return;
	__u32 last = (ts->next + NW_MARKS - 1) % NW_MARKS;
	if (ts->in_call && now - ts->m[last].ts < NW_MARK_GAP_NS)
		return;
	__u32 i = ts->next % NW_MARKS;
	ts->m[i].seq = BPF_CORE_READ((struct tcp_sock *)sk, write_seq);
	ts->m[i].ts = now;
	ts->next = i + 1;
	ts->in_call = 1;
}

SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(nw_pkt_app, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb, int size_goal)
{
	NW_FLOOR_RETURN(0);
	app_send_mark(sk);
	return 0;
}

static __always_inline void tcp_send_done(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &key);

	if (ts)
		ts->in_call = 0;
}

static __always_inline void udp_send_done(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&udp_send, &tid);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(nw_pkt_sent, struct sock *sk, int ret, int flags)
{
	NW_FLOOR_RETURN(0);
	__u16 proto = sk->sk_protocol;

	if (proto == IPPROTO_TCP && (nw_modes & NW_MODE_TCP))
		tcp_send_done(sk);
	else if (proto == IPPROTO_UDP && (nw_modes & NW_MODE_UDP))
		udp_send_done();
	return 0;
}

/*
 * Kernels without the tcp_sendmsg_locked and sock_send_length tracepoints (6.1; both came in
 * 6.3-6.4): the send call itself, entry and exit. The tracepoint fires once per skb the call
 * fills; the entry once per call, which is the mark app_time() needs (write_seq at the start).
 */
SEC("fentry/tcp_sendmsg_locked")
int BPF_PROG(nw_pkt_app_f1, struct sock *sk, struct msghdr *msg, size_t size)
{
	NW_FLOOR_RETURN(0);
	app_send_mark(sk);
	return 0;
}

SEC("fexit/tcp_sendmsg_locked")
int BPF_PROG(nw_pkt_sent_f1, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	NW_FLOOR_RETURN(0);
	tcp_send_done(sk);
	return 0;
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(nw_pkt_sent_f2, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	NW_FLOOR_RETURN(0);
	udp_send_done();
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(nw_pkt_sent_f3, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	NW_FLOOR_RETURN(0);
	udp_send_done();
	return 0;
}

/*
 * UDP has no send tracepoint: the entry of the send system calls stands for the application's
 * send. The syscall tracepoints (syscalls/sys_enter_sendto; Session attaches the same program to
 * sys_enter_sendmsg and sys_enter_sendmmsg too) cost other system calls one bit test in
 * perf_syscall_enter() (kernel/trace/trace_syscalls.c); raw_tp/sys_enter ran a program for every
 * system call of every process (dd bs=1: 13-27 % slower with -u). They need tracefs, for their
 * ids: without it (Tracefs), raw_tp/sys_enter stands in.
 */
static __always_inline void udp_send_mark(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&udp_send, &tid, &now, BPF_ANY);
}

SEC("tp/syscalls/sys_enter_sendto")
int nw_pkt_usend(void *ctx)
{
	NW_FLOOR_RETURN(0);
	udp_send_mark();
	return 0;
}

#define NR_SENDTO 44
#define NR_SENDMSG 46
#define NR_SENDMMSG 307

SEC("raw_tp/sys_enter")
int BPF_PROG(nw_pkt_usend_f1, struct pt_regs *regs, long id)
{
	NW_FLOOR_RETURN(0);
	if (id != NR_SENDTO && id != NR_SENDMSG && id != NR_SENDMMSG)
		return 0;
	udp_send_mark();
	return 0;
}

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
	if (!nw_filter_pass(&flow, netns))
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

/*
 * Payload bytes of a GSO packet that was cut and sent only in part: the segments after the
 * last one seen at the driver were dropped in the qdisc or went by without BPF (the kernel
 * skips tracing programs on about 1 in 1,000 such hits: bench/tracepoint-misses.sh). A packet
 * sent whole (next == seq) or not yet started is not counted. Counted once: next moves to end.
 */
static __always_inline __u32 gso_unseen_rest(struct tx_gso *g)
{
	if (!g->t_queue || g->next == g->seq || !before(g->next, g->end))
		return 0;
	__u32 rest = g->end - g->next;
	g->next = g->end;
	return rest;
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
	count_unseen(gso_unseen_rest(g), g->mss); /* the entry it overwrites */
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
	__u32 unseen;          /* payload bytes of segments that went by unseen */
};

static long gso_find_one(__u64 i, struct gso_find *f)
{
	struct tx_gso *cand = &f->ts->gso[i & (NW_GSO_RING - 1)];

	if (!cand->t_queue)
		return 0;
	/* a qdisc sends in order: the packet that ends where this segment starts is done */
	if (cand->end == f->seq)
		f->unseen += gso_unseen_rest(cand);
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
	if (g && before(g->next, l4.seq)) {
		/* segments between were not seen at the driver: dropped in the qdisc, or no BPF ran */
		f.unseen += l4.seq - g->next;
	}
	count_unseen(f.unseen, g ? g->mss : seg->len);
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
	/* Its GSO packet was not followed (--sample) or left our ring (more than NW_GSO_RING queued) */
	if (nw_sample > 1)
		return 0;
	count(NW_C_UNMATCHED); /* report the driver only */
	return nw_filter_pass(&seg->flow, seg->netns);
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
		return 0;
	}
	if (tx_in_table > 0) {
		struct tx_state *st = tx_entry(skb, key);
		if (st) {
			st->t_start = bpf_ktime_get_ns();
			return 0;
		}
	}
	if (!(nw_modes & NW_MODE_TCP))
		return 0;
	struct sock *sk = skb->sk;
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
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
