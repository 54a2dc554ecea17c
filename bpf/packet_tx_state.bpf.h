/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, send path (packet_tx.bpf.h), the send path's state: the per-socket send marks,
 * the per-packet tx state (per-CPU scratch on a device without a queue, tx_pkt once a qdisc holds
 * the packet), the GSO ring, and their helpers.
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
	/*
	 * The end (seq + len, + 1 for a FIN) of the furthest data the driver has sent: a data
	 * record that starts beyond it means the bytes between went by unseen (tcp_drv_seen()).
	 */
	__u32 drv_end;
	__u8 drv_set;          /* drv_end holds a value */
	__u8 pad[7];
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
	/* TCP: its sequence numbers count what the driver did not send (tcp_drv_seen()), once */
	if (c->st[i].flow.proto != IPPROTO_TCP) {
		count(NW_C_UNFINISHED);
		count_add(NW_C_UNFINISHED_BYTES, c->st[i].len);
	}
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
