// SPDX-License-Identifier: GPL-2.0
/*
 * -t -u -I: per-packet, per-layer latency. Boundaries (kernel 6.18, no kprobes):
 *
 * tx  app send ......... tp tcp_sendmsg_locked (TCP, first loop of a send call)
 *                        raw_tp sys_enter sendto/sendmsg/sendmmsg (UDP)
 *     left TCP/UDP ..... netfilter LOCAL_OUT at INT_MIN+2, just inside -n (__ip_local_out())
 *     to the device .... tp net_dev_queue (__dev_queue_xmit() entry)
 *     driver starts .... tp net_dev_start_xmit (xmit_one())
 *     driver done ...... tp net_dev_xmit (xmit_one(), rc == NETDEV_TX_OK)  -> record
 *
 * rx  device receive ... tp netif_rx (veth, loopback) or napi_gro_receive_entry
 *     IP receive ....... tp netif_receive_skb (__netif_receive_skb_core())
 *     to TCP/UDP ....... netfilter LOCAL_IN at INT_MAX-2, just inside -n (ip_local_deliver())
 *     on the socket .... tp sk_data_ready (sock_def_readable())
 *     to the app ....... tp skb_copy_datagram_iovec (TCP: skb_copy_datagram_iter()) -> record
 *                        tp sock_recv_length (UDP: end of sock_recvmsg()) -> record
 *
 * Correlation: tx packets by skb address from LOCAL_OUT to xmit (the skb that
 * leaves __ip_local_out() is the one the device sends), software-GSO segments
 * by socket and sequence range; the application's send by socket and sequence
 * (TCP) or by thread (UDP). rx by skb->head (the data buffer, shared by clones
 * such as the one ip_rcv() makes when a packet socket holds a reference) up to
 * LOCAL_IN, then TCP by flow and sequence range against rcv_nxt and copied_seq,
 * UDP by queue order per socket (see struct udp_q). Every table is an LRU map: a long run does not grow.
 * The LRU maps keep per-CPU LRU lists (BPF_F_NO_COMMON_LRU): no lock shared by all CPUs on
 * every update (kernel/bpf/bpf_lru_list.c); each CPU may evict once its share is used.
 */
#include "nw_skb.h"
#include "packet.h"

NW_BTF_EXPORT(packet_event);
NW_BTF_EXPORT(icmp_event);
NW_BTF_EXPORT(flow_key);
NW_BTF_EXPORT(flow_totals);
NW_BTF_EXPORT(layer_hist);
NW_BTF_EXPORT(packet_count);

#define NW_MODE_TCP 1
#define NW_MODE_UDP 2
#define NW_MODE_ICMP 4
const volatile __u32 nw_modes = 0;

/*
 * --metrics: 0 = records only, 1 = records and in-kernel histograms,
 * 2 = histograms only (no record reaches user space: the always-on mode).
 */
#define NW_AGG_ALSO 1
#define NW_AGG_ONLY 2
const volatile __u32 nw_aggregate = 0;

#define NF_ACCEPT 1
#define TCP_TIME_WAIT 6
#define TCP_NEW_SYN_RECV 12
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define NW_MARKS 16
#define NW_RX_SLOTS 16
/* A new mark within one send call only after a pause (the call slept for buffer space). */
#define NW_MARK_GAP_NS 100000

/* Counters user space reads (nw_counters index). */
enum { NW_C_EVICTED = 0, NW_C_UNMATCHED = 1, NW_C_COUNT = 2 };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NW_C_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} nw_counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&nw_counters, &which);
	if (c)
		*c += 1;
}

static __always_inline int before(__u32 a, __u32 b) { return (__s32)(a - b) < 0; }

static __always_inline int wanted(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return nw_modes & NW_MODE_TCP;
	if (proto == IPPROTO_UDP)
		return nw_modes & NW_MODE_UDP;
	if (proto == IPPROTO_ICMP || proto == NW_IPPROTO_ICMPV6)
		return nw_modes & NW_MODE_ICMP;
	return 0;
}

/* ---------------------------------------------------------------- tx state */

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
	 * skb->head when the entry was made: tx_pkt is keyed by skb address, which the slab
	 * reuses. An entry left by a packet freed before xmit must not be taken for a new skb
	 * at the same address (a GSO segment made after the qdisc, say).
	 */
	__u64 head;
	/* echo reply: the request's times */
	__u64 req_drv, req_rcv, req_in;
	__u16 icmp_id, icmp_seq;
	__u8 echo_reply;
	__u8 no_qdisc;   /* the device has no queue (noqueue: loopback, veth by default) */
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
	__u8 flags, no_qdisc, pad[6];
};

#define NW_GSO_RING 32

struct tx_sock {
	__u32 next;
	__u32 in_call;         /* a send call is between tcp_sendmsg_locked and sock_send_length */
	struct tx_mark m[NW_MARKS];
	__u32 gso_next;
	__u32 pad;
	struct tx_gso gso[NW_GSO_RING];
};

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

/* ---------------------------------------------------------------- rx state */

struct rx_times {
	__u64 t_drv;
	__u64 t_rcv;
};

struct rx_slot {
	__u32 seq, end, ack, ifindex, len;
	__u8 tcp_flags, used, pad[2];
	__u64 t_drv, t_rcv, t_in, t_q;
};

struct rx_flow {
	__u32 next;
	__u32 pad;
	struct rx_slot s[NW_RX_SLOTS];
};

struct udp_rx {
	struct nw_flow flow;
	__u32 netns, ifindex, len, pad;
	__u64 t_drv, t_rcv, t_in, t_q;
};

/*
 * UDP datagrams queued on a socket, in queue order. UDP copies linear skbs with
 * copy_linear_skb(), which has no tracepoint, so the read is seen at
 * sock_recv_length (sock_recvmsg_nosec()) without the skb: the n-th datagram
 * read is the n-th queued. Slots carry their enqueue number so a datagram we
 * did not see (queued before start, or evicted) is skipped, not misattributed.
 */
#define NW_UDP_SLOTS 16
struct udp_slot {
	__u32 enq;
	__u32 used;
	struct udp_rx r;
};

struct udp_q {
	__u32 enq, deq;
	struct udp_slot s[NW_UDP_SLOTS];
};

struct icmp_key {
	__u32 netns;
	__u16 family, id, seq, pad;
	__u8 peer[16];
};

struct icmp_req {
	__u64 t_drv, t_rcv, t_in;
	__u32 ifindex, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, __u64);              /* skb->head */
	__type(value, struct rx_times);
} rx_pkt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);    /* local view: saddr is ours */
	__type(value, struct rx_flow);
} rx_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_flow);
} rx_flow_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, __u64);              /* skb->head */
	__type(value, struct udp_rx);
} udp_rx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 4096);
	__type(key, __u64);              /* struct sock address */
	__type(value, struct udp_q);
} udp_q SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct udp_q);
} udp_q_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, struct icmp_key);
	__type(value, struct icmp_req);
} icmp_req SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);    /* local view */
	__type(value, struct flow_totals);
} flow_totals SEC(".maps");

/* ---------------------------------------------------------------- helpers */

/* The entry for key, created from *init when missing (NULL only if the map refuses it). */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);
	if (v || !init)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* The same for values too large for the BPF stack: zeroes come from a one-slot per-CPU array, read only on a miss. */
static __always_inline void *lookup_or_zero(void *map, const void *key, void *zero_array)
{
	void *v = bpf_map_lookup_elem(map, key);
	if (v)
		return v;
	__u32 zero = 0;
	return lookup_or_init(map, key, bpf_map_lookup_elem(zero_array, &zero));
}

static __always_inline void add_totals(__u32 netns, const struct nw_flow *wire, __u8 dir, __u32 len)
{
	if (nw_aggregate == NW_AGG_ONLY)
		return; /* flow totals are printed, never exported: nobody reads them in metrics-only mode */
	struct flow_key k = {.netns = netns, .flow = *wire};
	if (dir == NW_DIR_RX)
		nw_flow_reverse(&k.flow);
	struct flow_totals zero = {};
	struct flow_totals *t = lookup_or_init(&flow_totals, &k, &zero);
	if (!t)
		return;
	if (dir == NW_DIR_TX) {
		__sync_fetch_and_add(&t->tx_packets, 1);
		__sync_fetch_and_add(&t->tx_bytes, len);
	} else {
		__sync_fetch_and_add(&t->rx_packets, 1);
		__sync_fetch_and_add(&t->rx_bytes, len);
	}
}

/* Layer time from a to b when both were seen. */
static __always_inline void layer(struct packet_event *e, int l, __u64 a, __u64 b)
{
	if (a && b && b >= a && l >= 0 && l < NW_L_COUNT) {
		e->layer_ns[l] = b - a;
		e->layer_mask |= 1 << l;
	}
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * NW_HIST_PROTOS * NW_L_COUNT);
	__type(key, __u32);
	__type(value, struct layer_hist);
} layer_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * NW_HIST_PROTOS);
	__type(key, __u32);
	__type(value, struct packet_count);
} packet_counts SEC(".maps");

/*
 * Global (not inlined) functions: the verifier checks each once on its own
 * instead of once per path of every caller, which the callers' many paths
 * would multiply past its limit. Arguments are scalars only.
 */
__noinline int nw_hist_add(__u32 key, __u64 ns)
{
	struct layer_hist *h = bpf_map_lookup_elem(&layer_hists, &key);
	__u32 b = 0;

	if (!h)
		return 0;
	h->sum_ns += ns;
	ns >>= NW_HIST_MIN_SHIFT - 1;
	/* b = bits left above bit 0, capped at the last bucket */
	for (int i = 0; i < NW_HIST_BUCKETS - 1 && ns > 1; i++) {
		ns >>= 1;
		b++;
	}
	if (b < NW_HIST_BUCKETS)
		h->buckets[b]++;
	return 0;
}

__noinline int nw_count_add(__u32 key, __u32 len)
{
	struct packet_count *c = bpf_map_lookup_elem(&packet_counts, &key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return 0;
}

static __always_inline void aggregate(const struct packet_event *e)
{
	__u32 proto = e->flow.proto == IPPROTO_TCP ? 0 : e->flow.proto == IPPROTO_UDP ? 1 : 2;
	__u32 base = (e->dir ? NW_HIST_PROTOS : 0) + proto;
	__u8 mask = e->layer_mask;

	nw_count_add(base, e->len);
	if (mask & (1 << NW_L_TRANSPORT))
		nw_hist_add(base * NW_L_COUNT + NW_L_TRANSPORT, e->layer_ns[NW_L_TRANSPORT]);
	if (mask & (1 << NW_L_IP))
		nw_hist_add(base * NW_L_COUNT + NW_L_IP, e->layer_ns[NW_L_IP]);
	if (mask & (1 << NW_L_QDISC))
		nw_hist_add(base * NW_L_COUNT + NW_L_QDISC, e->layer_ns[NW_L_QDISC]);
	if (mask & (1 << NW_L_DRIVER))
		nw_hist_add(base * NW_L_COUNT + NW_L_DRIVER, e->layer_ns[NW_L_DRIVER]);
	if (mask & (1 << NW_L_SOCKET))
		nw_hist_add(base * NW_L_COUNT + NW_L_SOCKET, e->layer_ns[NW_L_SOCKET]);
}

/* The one exit of a packet record: histograms (--metrics), then user space unless metrics-only. */
static __always_inline void publish(struct packet_event *e)
{
	if (nw_aggregate)
		aggregate(e);
	if (nw_aggregate == NW_AGG_ONLY)
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
	else
		nw_submit(e);
}

static __always_inline struct packet_event *new_packet(void *ctx, __u8 dir, const struct nw_flow *flow, __u32 netns)
{
	struct packet_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return 0;
	if (nw_aggregate != NW_AGG_ONLY) /* metrics-only: the header never leaves the kernel */
		nw_fill_hdr(ctx, &e->hdr, NW_EV_PACKET, netns);
	e->flow = *flow;
	__builtin_memset(e->layer_ns, 0, sizeof(e->layer_ns));
	e->dir = dir;
	e->layer_mask = 0;
	e->seq = e->ack = e->len = e->ifindex = 0;
	e->tcp_flags = e->flags = e->icmp_type = e->icmp_code = 0;
	e->pad = 0;
	return e;
}

/* The filter speaks of the local side: sport/saddr are ours in both directions. */
static __always_inline int pass_local(const struct nw_flow *wire, __u32 netns, __u8 dir)
{
	if (dir == NW_DIR_TX)
		return nw_filter_pass(wire, netns);
	struct nw_flow local = *wire;
	nw_flow_reverse(&local);
	return nw_filter_pass(&local, netns);
}

/* Flow of a socket as it appears in packets: IPv4-mapped IPv6 sockets carry IPv4. */
static __always_inline void local_flow_of_sk(struct nw_flow *f, const struct sock *sk)
{
	nw_flow_from_sk(f, sk);
	if (f->family == AF_INET6 && f->daddr[10] == 0xff && f->daddr[11] == 0xff &&
	    !f->daddr[0] && !f->daddr[1] && !f->daddr[2] && !f->daddr[3] && !f->daddr[4] &&
	    !f->daddr[5] && !f->daddr[6] && !f->daddr[7] && !f->daddr[8] && !f->daddr[9]) {
		f->family = AF_INET;
		__builtin_memset(f->saddr, 0, 16);
		__builtin_memset(f->daddr, 0, 16);
		bpf_probe_read_kernel(f->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_probe_read_kernel(f->daddr, 4, &sk->__sk_common.skc_daddr);
	}
}

static __always_inline int sk_is_full_tcp(const struct sock *sk)
{
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u8 state = sk->__sk_common.skc_state;
	return state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
}

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

/* ---------------------------------------------------------------- tx hooks */

SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(nw_pkt_sendmsg, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb, int size_goal)
{
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	struct tx_sock *ts = lookup_or_zero(&tx_sock, &key, &tx_sock_zero);

	if (!ts)
		return 0;
	__u32 last = (ts->next + NW_MARKS - 1) % NW_MARKS;
	if (ts->in_call && now - ts->m[last].ts < NW_MARK_GAP_NS)
		return 0;
	__u32 i = ts->next % NW_MARKS;
	ts->m[i].seq = BPF_CORE_READ((struct tcp_sock *)sk, write_seq);
	ts->m[i].ts = now;
	ts->next = i + 1;
	ts->in_call = 1;
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(nw_pkt_send_end, struct sock *sk, int ret, int flags)
{
	__u64 key = (__u64)sk;
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &key);
	if (ts)
		ts->in_call = 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&udp_send, &tid);
	return 0;
}

#define NR_SENDTO 44
#define NR_SENDMSG 46
#define NR_SENDMMSG 307

/* UDP has no send tracepoint: the send syscall's entry stands for the application's send. */
SEC("raw_tp/sys_enter")
int BPF_PROG(nw_pkt_sysenter, struct pt_regs *regs, long id)
{
	if (id != NR_SENDTO && id != NR_SENDMSG && id != NR_SENDMMSG)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&udp_send, &tid, &now, BPF_ANY);
	return 0;
}

SEC("netfilter")
int nw_pkt_out(struct bpf_nf_ctx *ctx)
{
	struct sk_buff *skb = ctx->skb;
	struct tx_state st = {};
	struct nw_l4 l4 = {};
	__u64 key = (__u64)skb;

	if (nw_flow_from_skb(&st.flow, &l4, skb) || !wanted(st.flow.proto))
		return NF_ACCEPT;
	st.netns = ctx->state->net->ns.inum;
	if (!nw_filter_pass(&st.flow, st.netns))
		return NF_ACCEPT;
	st.t_out = bpf_ktime_get_ns();
	st.head = (__u64)skb->head;
	st.seq = l4.seq;
	st.ack = l4.ack;
	st.len = nw_payload_len(skb, &l4);
	st.tcp_flags = l4.tcp_flags;
	st.icmp_type = l4.icmp_type;
	st.icmp_code = l4.icmp_code;

	if (st.flow.proto == IPPROTO_TCP) {
		struct sock *sk = skb->sk;
		if (st.len && sk_is_full_tcp(sk)) {
			__u32 snd_nxt = BPF_CORE_READ((struct tcp_sock *)sk, snd_nxt);
			if (before(st.seq, snd_nxt)) {
				st.flags |= NW_PKT_RETRANS;
			} else {
				__u64 sk_key = (__u64)sk;
				struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &sk_key);
				if (ts)
					st.t_app = app_time(ts, st.seq);
			}
		}
	} else if (st.flow.proto == IPPROTO_UDP) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		__u64 *since = bpf_map_lookup_elem(&udp_send, &tid);
		if (since && nw_in_task_context(ctx))
			st.t_app = *since;
	} else if ((st.flow.family == AF_INET && l4.icmp_type == ICMP_ECHO_REPLY) ||
		   (st.flow.family == AF_INET6 && l4.icmp_type == ICMPV6_ECHO_REPLY)) {
		struct icmp_key k = {.netns = st.netns, .family = st.flow.family,
				     .id = l4.icmp_id, .seq = l4.icmp_seq};
		__builtin_memcpy(k.peer, st.flow.daddr, 16);
		struct icmp_req *req = bpf_map_lookup_elem(&icmp_req, &k);
		if (req) {
			st.echo_reply = 1;
			st.req_drv = req->t_drv;
			st.req_rcv = req->t_rcv;
			st.req_in = req->t_in;
			st.icmp_id = l4.icmp_id;
			st.icmp_seq = l4.icmp_seq;
			bpf_map_delete_elem(&icmp_req, &k);
		}
	}
	bpf_map_update_elem(&tx_pkt, &key, &st, BPF_ANY);
	return NF_ACCEPT;
}

/*
 * The tx state of this skb, or 0. tx_pkt is keyed by skb address, which the slab reuses:
 * an entry whose skb->head differs was left by an earlier packet (freed before xmit);
 * it is deleted and not taken for this one.
 */
static __always_inline struct tx_state *tx_entry(const struct sk_buff *skb, __u64 key)
{
	struct tx_state *st = bpf_map_lookup_elem(&tx_pkt, &key);

	if (st && st->head != (__u64)skb->head) {
		bpf_map_delete_elem(&tx_pkt, &key);
		return 0;
	}
	return st;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(nw_pkt_queue, struct sk_buff *skb)
{
	__u64 key = (__u64)skb;
	__u64 now = bpf_ktime_get_ns();
	struct tx_state *st = tx_entry(skb, key);

	if (!st)
		return 0; /* not from a hooked LOCAL_OUT: forwarded, or a namespace without our hooks */
	st->t_queue = now;
	st->ifindex = skb->dev->ifindex;
	/* __dev_queue_xmit() fires net_dev_queue after picking txq; a qdisc without
	 * ->enqueue is noqueue, and the packet goes straight to the driver. */
	{
		struct net_device *dev = skb->dev;
		__u16 qm = skb->queue_mapping;
		struct netdev_queue *txq = BPF_CORE_READ(dev, _tx);
		__u32 nq = BPF_CORE_READ(dev, num_tx_queues);
		if (txq && qm < nq) {
			txq = (void *)txq + (__u64)qm * bpf_core_type_size(struct netdev_queue);
			struct Qdisc *q = BPF_CORE_READ(txq, qdisc);
			st->no_qdisc = !q || !BPF_CORE_READ(q, enqueue);
		}
	}

	/* Remember GSO packets per socket: the qdisc (tbf) or validate_xmit_skb() may split them. */
	if (st->flow.proto == IPPROTO_TCP) {
		unsigned char *head = skb->head;
		__u32 end = skb->end;
		struct skb_shared_info *shinfo = (struct skb_shared_info *)(head + end);
		if (BPF_CORE_READ(shinfo, gso_segs) > 1) {
			__u64 sk_key = (__u64)skb->sk;
			struct tx_sock *ts = bpf_map_lookup_elem(&tx_sock, &sk_key);
			if (ts) {
				__u32 i = ts->gso_next % NW_GSO_RING;
				struct tx_gso *g = &ts->gso[i];
				g->seq = st->seq;
				g->end = st->seq + st->len;
				g->t_app = st->t_app;
				g->t_out = st->t_out;
				g->t_queue = st->t_queue;
				g->flags = st->flags;
				g->no_qdisc = st->no_qdisc;
				ts->gso_next = i + 1;
			}
		}
	}
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(nw_pkt_start, const struct sk_buff *skb, const struct net_device *dev)
{
	__u64 key = (__u64)skb;
	__u64 now = bpf_ktime_get_ns();
	struct tx_state *st = tx_entry(skb, key);

	if (!st && (nw_modes & NW_MODE_TCP)) {
		/* A segment of a GSO packet split after net_dev_queue: match by socket and sequence range. */
		__u64 sk_key = (__u64)skb->sk;
		struct tx_sock *ts = sk_key ? bpf_map_lookup_elem(&tx_sock, &sk_key) : 0;
		if (!ts)
			return 0;
		struct tx_state seg = {};
		struct nw_l4 l4 = {};
		if (nw_flow_from_skb(&seg.flow, &l4, skb) || seg.flow.proto != IPPROTO_TCP)
			return 0;
		struct tx_gso *g = 0;
		for (int i = 0; i < NW_GSO_RING; i++) {
			struct tx_gso *c = &ts->gso[i];
			if (c->t_queue && !before(l4.seq, c->seq) && before(l4.seq, c->end)) {
				g = c;
				break;
			}
		}
		seg.netns = nw_skb_netns(skb, 0);
		seg.seq = l4.seq;
		seg.ack = l4.ack;
		seg.len = nw_payload_len(skb, &l4);
		seg.ifindex = skb->dev->ifindex;
		seg.tcp_flags = l4.tcp_flags;
		seg.flags = NW_PKT_GSO_SEG;
		seg.head = (__u64)skb->head;
		if (g) {
			seg.flags |= g->flags;
			seg.no_qdisc = g->no_qdisc;
			seg.t_app = g->t_app;
			seg.t_out = g->t_out;
			seg.t_queue = g->t_queue;
		} else {
			/* Its GSO packet left our ring (more than NW_GSO_RING queued): report the driver only. */
			count(NW_C_UNMATCHED);
			if (!nw_filter_pass(&seg.flow, seg.netns))
				return 0;
		}
		bpf_map_update_elem(&tx_pkt, &key, &seg, BPF_ANY);
		st = bpf_map_lookup_elem(&tx_pkt, &key);
	}
	if (st)
		st->t_start = now;
	return 0;
}

static __always_inline void emit_echo(void *ctx, struct tx_state *st, __u64 now)
{
	struct icmp_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return;
	nw_fill_hdr(ctx, &e->hdr, NW_EV_ICMP, st->netns);
	e->flow = st->flow;
	nw_flow_reverse(&e->flow); /* the request's direction */
	__builtin_memset(e->rx_ns, 0, sizeof(e->rx_ns));
	__builtin_memset(e->tx_ns, 0, sizeof(e->tx_ns));
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	e->rx_mask = e->tx_mask = 0;
	if (st->req_drv && st->req_rcv) { e->rx_ns[0] = st->req_rcv - st->req_drv; e->rx_mask |= 1; }
	if (st->req_rcv && st->req_in) { e->rx_ns[1] = st->req_in - st->req_rcv; e->rx_mask |= 2; }
	e->icmp_ns = st->t_out - st->req_in;
	if (st->t_out && st->t_queue) { e->tx_ns[0] = st->t_queue - st->t_out; e->tx_mask |= 1; }
	if (st->no_qdisc) {
		__u64 from = st->t_queue ? st->t_queue : st->t_start;
		if (from) { e->tx_ns[2] = now - from; e->tx_mask |= 4; }
	} else {
		if (st->t_queue && st->t_start) { e->tx_ns[1] = st->t_start - st->t_queue; e->tx_mask |= 2; }
		if (st->t_start) { e->tx_ns[2] = now - st->t_start; e->tx_mask |= 4; }
	}
	__u64 first = st->req_drv ? st->req_drv : st->req_rcv ? st->req_rcv : st->req_in;
	e->total_ns = now - first;
	e->id = st->icmp_id;
	e->seq = st->icmp_seq;
	e->ifindex = st->ifindex;
	nw_submit(e);
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(nw_pkt_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int skb_len)
{
	__u64 key = (__u64)skb;
	__u64 now = bpf_ktime_get_ns();

	if (rc != 0)
		return 0; /* NETDEV_TX_BUSY: requeued, it will be sent again */
	struct tx_state *st = tx_entry(skb, key);
	if (!st)
		return 0;
	if (st->echo_reply) {
		emit_echo(ctx, st, now);
	} else {
		struct packet_event *e = new_packet(ctx, NW_DIR_TX, &st->flow, st->netns);
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
	bpf_map_delete_elem(&tx_pkt, &key);
	return 0;
}

/* ---------------------------------------------------------------- rx hooks */

/*
 * Early, cheap test on the receive tracepoints, before any map update: is the packet of a
 * protocol we follow? Drivers call netif_rx()/napi_gro_receive() after eth_type_trans(),
 * so skb->data is at the network header. IPv6 extension headers are decided later.
 */
static __always_inline int rx_wanted(const struct sk_buff *skb)
{
	__u16 proto = bpf_ntohs(skb->protocol);
	unsigned char *data = skb->data;
	__u8 l4 = 0;

	if (proto == ETH_P_IP) {
		if (bpf_probe_read_kernel(&l4, 1, data + 9))
			return 0;
	} else if (proto == ETH_P_IPV6) {
		if (bpf_probe_read_kernel(&l4, 1, data + 6))
			return 0;
		if (l4 == 0 || l4 == 43 || l4 == 44 || l4 == 51 || l4 == 60)
			return 1;
	} else {
		return 0;
	}
	return wanted(l4);
}

static __always_inline void rx_start(const struct sk_buff *skb)
{
	if (!rx_wanted(skb))
		return;
	__u64 key = (__u64)skb->head;
	struct rx_times t = {.t_drv = bpf_ktime_get_ns()};
	bpf_map_update_elem(&rx_pkt, &key, &t, BPF_ANY);
}

SEC("tp_btf/netif_rx")
int BPF_PROG(nw_pkt_netif_rx, struct sk_buff *skb)
{
	rx_start(skb);
	return 0;
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(nw_pkt_gro, const struct sk_buff *skb)
{
	rx_start(skb);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(nw_pkt_receive, struct sk_buff *skb)
{
	__u64 key = (__u64)skb->head;
	__u64 now = bpf_ktime_get_ns();
	struct rx_times *t = bpf_map_lookup_elem(&rx_pkt, &key);
	if (t) {
		t->t_rcv = now;
	} else if (rx_wanted(skb)) {
		struct rx_times n = {.t_rcv = now};
		bpf_map_update_elem(&rx_pkt, &key, &n, BPF_ANY);
	}
	return 0;
}

static __always_inline void emit_rx_now(void *ctx, const struct nw_flow *flow, __u32 netns, const struct nw_l4 *l4,
					__u32 len, __u32 ifindex, __u64 t_drv, __u64 t_rcv, __u64 t_in)
{
	struct packet_event *e = new_packet(ctx, NW_DIR_RX, flow, netns);
	if (!e)
		return;
	layer(e, NW_L_DRIVER, t_drv, t_rcv);
	layer(e, NW_L_IP, t_rcv, t_in);
	e->seq = l4->seq;
	e->ack = l4->ack;
	e->len = len;
	e->ifindex = ifindex;
	e->tcp_flags = l4->tcp_flags;
	e->icmp_type = l4->icmp_type;
	e->icmp_code = l4->icmp_code;
	publish(e);
}

SEC("netfilter")
int nw_pkt_in(struct bpf_nf_ctx *ctx)
{
	struct sk_buff *skb = ctx->skb;
	struct nw_flow flow = {};
	struct nw_l4 l4 = {};
	__u64 t_in = bpf_ktime_get_ns();
	__u64 t_drv = 0, t_rcv = 0;

	if (nw_flow_from_skb(&flow, &l4, skb) || !wanted(flow.proto))
		return NF_ACCEPT;
	__u32 netns = ctx->state->net->ns.inum;
	if (!pass_local(&flow, netns, NW_DIR_RX))
		return NF_ACCEPT;
	__u64 head = (__u64)skb->head;
	struct rx_times *t = bpf_map_lookup_elem(&rx_pkt, &head);
	if (t) {
		t_drv = t->t_drv;
		t_rcv = t->t_rcv;
		bpf_map_delete_elem(&rx_pkt, &head);
	}
	__u32 len = nw_payload_len(skb, &l4);
	__u32 ifindex = ctx->state->in->ifindex;

	if (flow.proto == IPPROTO_TCP && len) {
		struct flow_key k = {.netns = netns, .flow = flow};
		nw_flow_reverse(&k.flow);
		struct rx_flow *rf = lookup_or_zero(&rx_flow, &k, &rx_flow_zero);
		if (!rf)
			return NF_ACCEPT;
		__u32 i = rf->next % NW_RX_SLOTS;
		struct rx_slot *s = &rf->s[i];
		if (s->used)
			count(NW_C_EVICTED);
		s->seq = l4.seq;
		s->end = l4.seq + len;
		s->ack = l4.ack;
		s->len = len;
		s->ifindex = ifindex;
		s->tcp_flags = l4.tcp_flags;
		s->t_drv = t_drv;
		s->t_rcv = t_rcv;
		s->t_in = t_in;
		s->t_q = 0;
		s->used = 1;
		rf->next = i + 1;
		return NF_ACCEPT;
	}
	if (flow.proto == IPPROTO_UDP) {
		struct udp_rx u = {.flow = flow, .netns = netns, .ifindex = ifindex, .len = len,
				   .t_drv = t_drv, .t_rcv = t_rcv, .t_in = t_in};
		bpf_map_update_elem(&udp_rx, &head, &u, BPF_ANY);
		return NF_ACCEPT;
	}
	if ((flow.family == AF_INET && l4.icmp_type == ICMP_ECHO) ||
	    (flow.family == AF_INET6 && l4.icmp_type == ICMPV6_ECHO_REQUEST)) {
		struct icmp_key k = {.netns = netns, .family = flow.family, .id = l4.icmp_id, .seq = l4.icmp_seq};
		__builtin_memcpy(k.peer, flow.saddr, 16);
		struct icmp_req r = {.t_drv = t_drv, .t_rcv = t_rcv, .t_in = t_in, .ifindex = ifindex};
		bpf_map_update_elem(&icmp_req, &k, &r, BPF_ANY);
		return NF_ACCEPT;
	}
	/* TCP without payload (ACK, SYN, FIN, RST) and other ICMP: nothing more to wait for. */
	emit_rx_now(ctx, &flow, netns, &l4, len, ifindex, t_drv, t_rcv, t_in);
	if (flow.proto == IPPROTO_TCP)
		add_totals(netns, &flow, NW_DIR_RX, 0);
	return NF_ACCEPT;
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(nw_pkt_ready, const struct sock *sk)
{
	__u64 now = bpf_ktime_get_ns();
	__u16 family = sk->__sk_common.skc_family;
	__u16 proto = sk->sk_protocol;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (proto == IPPROTO_TCP && (nw_modes & NW_MODE_TCP)) {
		struct flow_key k = {.netns = nw_sk_netns(sk)};
		local_flow_of_sk(&k.flow, sk);
		struct rx_flow *rf = bpf_map_lookup_elem(&rx_flow, &k);
		if (!rf)
			return 0;
		__u32 rcv_nxt = BPF_CORE_READ((struct tcp_sock *)sk, rcv_nxt);
		for (int i = 0; i < NW_RX_SLOTS; i++) {
			struct rx_slot *s = &rf->s[i];
			if (s->used && !s->t_q && !before(rcv_nxt, s->end))
				s->t_q = now;
		}
	} else if (proto == IPPROTO_UDP && (nw_modes & NW_MODE_UDP)) {
		/* __udp_enqueue_schedule_skb() queued the skb at the tail just before. */
		__u64 key = (__u64)sk;
		struct udp_q *q = bpf_map_lookup_elem(&udp_q, &key);
		struct sk_buff *tail = sk->sk_receive_queue.prev;
		struct udp_rx *u = 0;
		__u64 head = 0;
		if (tail && (void *)tail != (void *)&sk->sk_receive_queue) {
			head = (__u64)BPF_CORE_READ(tail, head);
			u = bpf_map_lookup_elem(&udp_rx, &head);
		}
		if (!q) {
			if (!u)
				return 0;
			q = lookup_or_zero(&udp_q, &key, &udp_q_zero);
			if (!q)
				return 0;
			/* Datagrams already queued before this one are read first: number them below 0. */
			__u32 queued = sk->sk_receive_queue.qlen +
				       BPF_CORE_READ((struct udp_sock *)sk, reader_queue.qlen);
			q->enq = 0;
			q->deq = queued ? 0 - (queued - 1) : 0;
		}
		__u32 n = q->enq++;
		struct udp_slot *slot = &q->s[n % NW_UDP_SLOTS];
		if (slot->used)
			count(NW_C_EVICTED);
		slot->used = 0;
		if (u) {
			slot->r = *u;
			slot->r.t_q = now;
			slot->enq = n;
			slot->used = 1;
			bpf_map_delete_elem(&udp_rx, &head);
		}
	}
	return 0;
}

#define MSG_PEEK 2

SEC("tp_btf/sock_recv_length")
int BPF_PROG(nw_pkt_recv_end, struct sock *sk, int ret, int flags)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 key = (__u64)sk;

	if (ret < 0 || (flags & MSG_PEEK) || sk->sk_protocol != IPPROTO_UDP)
		return 0;
	struct udp_q *q = bpf_map_lookup_elem(&udp_q, &key);
	if (!q)
		return 0;
	__u32 n = q->deq++;
	struct udp_slot *slot = &q->s[n % NW_UDP_SLOTS];
	if (!slot->used || slot->enq != n)
		return 0;
	slot->used = 0;
	struct udp_rx *u = &slot->r;
	if ((__u32)ret != u->len && !(flags & 0x20 /* MSG_TRUNC */)) {
		count(NW_C_UNMATCHED); /* not the datagram we expected: do not guess */
		return 0;
	}
	struct packet_event *e = new_packet(ctx, NW_DIR_RX, &u->flow, u->netns);
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
	return 0;
}

static __always_inline void emit_tcp_slot(void *ctx, struct rx_slot *s, const struct nw_flow *wire, __u32 netns,
					  __u64 now, int copied_now)
{
	struct packet_event *e = new_packet(ctx, NW_DIR_RX, wire, netns);
	if (e) {
		layer(e, NW_L_DRIVER, s->t_drv, s->t_rcv);
		layer(e, NW_L_IP, s->t_rcv, s->t_in);
		layer(e, NW_L_TRANSPORT, s->t_in, s->t_q);
		if (copied_now)
			layer(e, NW_L_SOCKET, s->t_q, now);
		e->seq = s->seq;
		e->ack = s->ack;
		e->len = s->len;
		e->ifindex = s->ifindex;
		e->tcp_flags = s->tcp_flags;
		publish(e);
	}
	add_totals(netns, wire, NW_DIR_RX, s->len);
	s->used = 0;
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(nw_pkt_copy, const struct sk_buff *skb, int len)
{
	__u64 now = bpf_ktime_get_ns();
	struct sock *sk = skb->sk;

	if (sk && sk->sk_protocol == IPPROTO_TCP) {
		__u16 family = sk->__sk_common.skc_family;
		if (family != AF_INET && family != AF_INET6)
			return 0;
		struct flow_key k = {.netns = nw_sk_netns(sk)};
		local_flow_of_sk(&k.flow, sk);
		struct rx_flow *rf = bpf_map_lookup_elem(&rx_flow, &k);
		if (!rf)
			return 0;
		struct nw_flow wire = k.flow;
		nw_flow_reverse(&wire);
		/* tcp_recvmsg_locked() advances copied_seq after the copy: it is where this copy starts. */
		__u32 from = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
		__u32 to = from + (__u32)len;
		for (int i = 0; i < NW_RX_SLOTS; i++) {
			struct rx_slot *s = &rf->s[i];
			if (s->used && before(s->seq, to)) {
				int copied_now = !before(s->seq, from);
				if (!copied_now)
					count(NW_C_UNMATCHED); /* its first byte left by a path we do not trace */
				emit_tcp_slot(ctx, s, &wire, k.netns, now, copied_now);
			}
		}
		return 0;
	}
	return 0;
}

/*
 * A TCP socket that reaches CLOSE takes its correlation state with it (tcp_set_state()
 * fires inet_sock_set_state), so the per-socket and per-flow tables hold live connections
 * and a long run with many short connections keeps them small. Flow totals stay: they are
 * the run's record of the flow.
 */
#define NW_TCP_CLOSE 7
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_pkt_close, const struct sock *sk, const int oldstate, const int newstate)
{
	if (newstate != NW_TCP_CLOSE || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	bpf_map_delete_elem(&tx_sock, &key);
	struct flow_key k = {.netns = nw_sk_netns(sk)};
	local_flow_of_sk(&k.flow, sk);
	/* tcp_set_state() releases the local port (inet_put_port(): inet_num = 0) before this
	 * tracepoint fires; inet_sport still holds it */
	if (!k.flow.sport)
		k.flow.sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	bpf_map_delete_elem(&rx_flow, &k);
	return 0;
}
