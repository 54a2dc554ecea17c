// SPDX-License-Identifier: GPL-2.0
/*
 * -x, -a, --rtt: TCP connection detail.
 *
 * nw_conn_iter   iter/tcp: user space reads this iterator periodically (in each
 *                watched namespace: bpf_iter_tcp walks the namespace of the task
 *                that creates the iterator fd); one conn_event per full socket,
 *                listeners included, written with bpf_seq_write (no ring buffer).
 * nw_conn_state  tp_btf/inet_sock_set_state: a conn_event on every state change
 *                (-x), and on the change to CLOSE a summary with the duration and
 *                the task seen at the socket's first state change (-a, like tcplife).
 * nw_conn_retx   tp_btf/tcp_retransmit_skb: retransmissions per socket, split by
 *                icsk_ca_state (Loss = after a retransmission timeout).
 * nw_conn_rtt    tp_btf/tcp_probe (top of tcp_rcv_established()): a new RTT sample
 *                is seen when tp->rack.mstamp changed, since tcp_rack_advance()
 *                sets rack.rtt_us and rack.mstamp together for each newly acked
 *                segment. The sample of the segment being processed is seen at the
 *                next one (the tracepoint fires before tcp_ack()).
 */
#include "nw_common.h"
#include "conn.h"

NW_BTF_EXPORT(conn_event);
NW_BTF_EXPORT(rtt_key);
NW_BTF_EXPORT(rtt_hist);

#define TCP_INFINITE_SSTHRESH 0x7fffffff

/* Bits of nw_conn_mode, set by user space. */
enum nw_conn_mode {
	NW_CONN_EXTRA = 1,
	NW_CONN_ALL = 2,
};
NW_BTF_EXPORT_ENUM(nw_conn_mode);
NW_BTF_EXPORT_ENUM(nw_conn_reason);
NW_BTF_EXPORT_ENUM(nw_conn_shape);

const volatile __u32 nw_conn_mode = 0;

struct nw_conn_birth {
	__u64 since_ns;
	__u32 pid;
	__u32 pad;
	char comm[16];
};

struct nw_conn_retx {
	__u32 fast;
	__u32 rto;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nw_conn_birth);
} conn_birth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nw_conn_retx);
} conn_retx SEC(".maps");

/* The last RTT sample's rack.mstamp, stored in the socket itself: freed with it, no hashing. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} rtt_last SEC(".maps");

/* Per CPU: no atomics, no cache line shared between CPUs; user space adds the CPUs up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rtt_key);
	__type(value, struct rtt_hist);
} rtt_hists SEC(".maps");

/* The local port: tcp_set_state() has released inet_num before the CLOSE tracepoint fires. */
static __always_inline void conn_flow(struct nw_flow *flow, const struct sock *sk)
{
	nw_flow_from_sk(flow, sk);
	if (flow->sport == 0)
		flow->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

/* The tcp_info numbers of tcp_get_info() (net/ipv4/tcp.c), read the same way. */
static __always_inline void conn_fill(struct conn_event *e, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u64 key = (__u64)sk;

	e->skaddr = key;
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->ca_state = BPF_CORE_READ_BITFIELD_PROBED((struct inet_connection_sock *)sk, icsk_ca_state);
	e->bytes_sent = BPF_CORE_READ(tp, bytes_sent);
	e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	e->bytes_received = BPF_CORE_READ(tp, bytes_received);
	e->snd_una = BPF_CORE_READ(tp, snd_una);
	e->snd_nxt = BPF_CORE_READ(tp, snd_nxt);
	e->rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
	e->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	e->snd_ssthresh = BPF_CORE_READ(tp, snd_ssthresh);
	e->snd_wnd = BPF_CORE_READ(tp, snd_wnd);
	e->rcv_wnd = BPF_CORE_READ(tp, rcv_wnd);
	e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	e->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
	e->min_rtt_us = BPF_CORE_READ(tp, rtt_min.s[0].v);
	e->mss = BPF_CORE_READ(tp, mss_cache);
	e->rcv_space = BPF_CORE_READ(tp, rcvq_space.space);
	e->sndbuf = BPF_CORE_READ(sk, sk_sndbuf);
	e->wmem_queued = BPF_CORE_READ(sk, sk_wmem_queued);
	e->rcvbuf = BPF_CORE_READ(sk, sk_rcvbuf);
	e->rmem_alloc = BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	e->segs_out = BPF_CORE_READ(tp, segs_out);
	e->segs_in = BPF_CORE_READ(tp, segs_in);
	e->total_retrans = BPF_CORE_READ(tp, total_retrans);
	if (bpf_core_field_exists(tp->total_rto))
		e->rto_timeouts = BPF_CORE_READ(tp, total_rto);
	else
		e->rto_timeouts = 0;
	e->ack_backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	e->max_ack_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->sk_err = BPF_CORE_READ(sk, sk_err);
	e->pad2 = 0;
	/* who owns it is found in user space from this number (as ss -p does); NULL links read as 0 */
	e->ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	struct nw_conn_retx *r = bpf_map_lookup_elem(&conn_retx, &key);
	e->retrans_fast = r ? r->fast : 0;
	e->retrans_rto = r ? r->rto : 0;
	e->duration_ns = 0;
	e->oldstate = 0;
	e->pad = 0;
}

/* A state-change record; with birth (CLOSED), the duration and the task seen at the socket's first change. */
static __always_inline void conn_emit(void *ctx, const struct sock *sk, const struct nw_flow *flow, __u32 netns,
				      __u32 reason, int oldstate, int newstate, const struct nw_conn_birth *birth)
{
	struct conn_event *e = nw_reserve(sizeof(*e));

	if (!e)
		return;
	nw_fill_hdr(ctx, &e->hdr, NW_EV_CONN, netns, sk);
	e->flow = *flow;
	conn_fill(e, sk);
	e->reason = reason;
	e->state = newstate;
	e->oldstate = oldstate;
	if (birth) {
		e->duration_ns = bpf_ktime_get_ns() - birth->since_ns;
		if (birth->pid) {
			e->hdr.pid = birth->pid;
			e->hdr.tid = 0;
			__builtin_memcpy(e->hdr.comm, birth->comm, sizeof(e->hdr.comm));
		}
	}
	nw_submit(e);
}

/*
 * Sockets per TCP state (enum of skc_state) seen by the walks since user space last read and
 * cleared it: every socket the iterator visits, TIME_WAIT and request (NEW_SYN_RECV) ones too.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NW_CONN_STATES);
	__type(key, __u32);
	__type(value, __u64);
} conn_states SEC(".maps");

static __always_inline void conn_count_state(const struct sock_common *skc)
{
	struct nw_flow flow = {};
	__u32 state = skc->skc_state;

	nw_flow_from_skc(&flow, skc);
	flow.proto = IPPROTO_TCP;
	if (state >= NW_CONN_STATES || !nw_filter_pass(&flow, skc->skc_net.net->ns.inum))
		return;
	__u64 *n = bpf_map_lookup_elem(&conn_states, &state);
	if (n)
		(*n)++;
}

SEC("iter/tcp")
int nw_conn_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct conn_event e = {};

	if (!skc)
		return 0;
	conn_count_state(skc);
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (!tp) /* TIME_WAIT and request sockets have no tcp_sock */
		return 0;
	const struct sock *sk = (const struct sock *)tp;
	__u32 netns = nw_sk_netns(sk);

	conn_flow(&e.flow, sk);
	/* the walk runs in netwatcher's own context: the owner is the socket's, never the current task */
	if (!nw_filter_pass(&e.flow, netns) || !nw_owner_pass_at(sk, 0, 0))
		return 0;
	nw_fill_hdr_at(&e.hdr, NW_EV_CONN, netns, bpf_ktime_get_ns(), 0, 0, sk);
	conn_fill(&e, sk);
	e.reason = NW_CONN_SNAPSHOT;
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_conn_state, const struct sock *sk, int oldstate, int newstate)
{
	struct nw_flow flow = {};
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	int task = nw_in_task_context(ctx);

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	struct nw_conn_birth *birth = bpf_map_lookup_elem(&conn_birth, &key);
	if (!birth && newstate != TCP_CLOSE && (nw_conn_mode & NW_CONN_ALL)) {
		struct nw_conn_birth b = {.since_ns = now};
		if (task) {
			b.pid = bpf_get_current_pid_tgid() >> 32;
			bpf_get_current_comm(b.comm, sizeof(b.comm));
		}
		bpf_map_update_elem(&conn_birth, &key, &b, BPF_NOEXIST);
	} else if (birth && birth->pid == 0 && task) {
		/* a passive open is born in softirq: take the first task that touches it */
		birth->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(birth->comm, sizeof(birth->comm));
	}

	int closing = newstate == TCP_CLOSE;
	if (!(nw_conn_mode & NW_CONN_EXTRA) && !closing)
		return 0;
	conn_flow(&flow, sk);
	__u32 netns = nw_sk_netns(sk);
	if (nw_filter_pass(&flow, netns) && nw_owner_pass(ctx, sk)) {
		if (nw_conn_mode & NW_CONN_EXTRA)
			conn_emit(ctx, sk, &flow, netns, NW_CONN_STATE, oldstate, newstate, 0);
		if (closing && (nw_conn_mode & NW_CONN_ALL))
			conn_emit(ctx, sk, &flow, netns, NW_CONN_CLOSED, oldstate, newstate, birth);
	}
	if (closing) {
		bpf_map_delete_elem(&conn_birth, &key);
		bpf_map_delete_elem(&conn_retx, &key);
	}
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(nw_conn_retx, const struct sock *sk, const struct sk_buff *skb)
{
	int err = nw_retransmit_err(ctx);
	__u64 key = (__u64)sk;
	struct nw_conn_retx *r = bpf_map_lookup_elem(&conn_retx, &key);

	if (err)
		return 0;
	if (!r) {
		struct nw_conn_retx zero = {};
		bpf_map_update_elem(&conn_retx, &key, &zero, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&conn_retx, &key);
		if (!r)
			return 0;
	}
	if (BPF_CORE_READ_BITFIELD_PROBED((struct inet_connection_sock *)sk, icsk_ca_state) == TCP_CA_Loss)
		__sync_fetch_and_add(&r->rto, 1);
	else
		__sync_fetch_and_add(&r->fast, 1);
	return 0;
}

static __always_inline __u32 log2_slot(__u32 v)
{
	__u32 slot = 0;

	for (int i = 16; i > 0; i >>= 1) {
		if (v >= (1u << i)) {
			v >>= i;
			slot += i;
		}
	}
	return slot < NW_RTT_SLOTS ? slot : NW_RTT_SLOTS - 1;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(nw_conn_rtt, struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk); /* trusted: direct loads below */
	if (!tp)
		return 0;
	__u64 mstamp = tp->rack.mstamp;
	__u32 rtt = tp->rack.rtt_us;

	if (!mstamp)
		return 0;
	__u64 *last = bpf_sk_storage_get(&rtt_last, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!last || *last == mstamp)
		return 0;
	*last = mstamp;

	/* the flow by direct loads (tp is a trusted BTF pointer): this runs for every received segment */
	struct nw_flow flow = {};
	flow.family = tp->inet_conn.icsk_inet.sk.__sk_common.skc_family;
	flow.proto = IPPROTO_TCP;
	flow.sport = tp->inet_conn.icsk_inet.sk.__sk_common.skc_num;
	flow.dport = bpf_ntohs(tp->inet_conn.icsk_inet.sk.__sk_common.skc_dport);
	if (flow.family == AF_INET) {
		*(__u32 *)flow.saddr = tp->inet_conn.icsk_inet.sk.__sk_common.skc_rcv_saddr;
		*(__u32 *)flow.daddr = tp->inet_conn.icsk_inet.sk.__sk_common.skc_daddr;
	} else {
		__builtin_memcpy(flow.saddr, tp->inet_conn.icsk_inet.sk.__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(flow.daddr, tp->inet_conn.icsk_inet.sk.__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
	}
	__u32 netns = tp->inet_conn.icsk_inet.sk.__sk_common.skc_net.net->ns.inum;
	if (!nw_filter_pass(&flow, netns))
		return 0;
	struct rtt_key k = {.netns = netns, .family = flow.family};
	__builtin_memcpy(k.addr, flow.daddr, sizeof(k.addr));
	struct rtt_hist *h = bpf_map_lookup_elem(&rtt_hists, &k);
	if (!h) {
		struct rtt_hist zero = {};
		bpf_map_update_elem(&rtt_hists, &k, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&rtt_hists, &k);
		if (!h)
			return 0;
	}
	if (h->count == 0 || rtt < h->min_us) /* a new element is zero on every CPU */
		h->min_us = rtt;
	if (rtt > h->max_us)
		h->max_us = rtt;
	h->slots[log2_slot(rtt)] += 1;
	h->count += 1;
	h->sum_us += rtt;
	return 0;
}
