/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, send path (packet_tx.bpf.h), the application's send: when TCP got each byte
 * (tcp_sendmsg_locked) and when a UDP sender entered its send system call; fentry/fexit stand-ins
 * where the tracepoints are missing.
 */
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
 * UDP has no send tracepoint. Where fentry runs (Debian's 6.1 and 6.12), the send functions
 * themselves mark the send: nothing for processes that send no UDP. Elsewhere (6.18 here) the
 * cgroup sock_addr hooks inside them do (udp_sendmsg() and udpv6_sendmsg() run
 * BPF_CGROUP_RUN_PROG_UDP{4,6}_SENDMSG_LOCK), but only for a send that names its destination
 * (!connected): a connected socket's datagrams then have no transport time. --udp-send-syscalls
 * marks every send at the send system calls' tracepoints instead (syscalls/sys_enter_sendto;
 * Session attaches the same program to sys_enter_sendmsg and sys_enter_sendmmsg), at a cost to
 * every process: any syscall tracepoint in use sets SYSCALL_WORK_SYSCALL_TRACEPOINT on every task
 * (syscall_regfunc(), kernel/tracepoint.c), and every system call takes the slower entry
 * (dd bs=1: 1.2x, BENCHMARKS.md "The UDP send mark"). They need tracefs for their ids: without
 * it (Tracefs), raw_tp/sys_enter stands in, a program for every system call.
 */
static __always_inline void udp_send_mark(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&udp_send, &tid, &now, BPF_ANY);
}

/* A cgroup sock_addr program allows the send by returning 1, also in the floor's build. */
SEC("cgroup/sendmsg4")
int nw_pkt_usnd4(struct bpf_sock_addr *ctx)
{
	NW_FLOOR_RETURN(1);
	udp_send_mark();
	return 1;
}

SEC("cgroup/sendmsg6")
int nw_pkt_usnd6(struct bpf_sock_addr *ctx)
{
	NW_FLOOR_RETURN(1);
	udp_send_mark();
	return 1;
}

/*
 * Preferred to the cgroup hooks where fentry runs (Fallbacks: a program <name>_p<n> is preferred
 * to <name>). udpv6_sendmsg() hands IPv4-mapped destinations to udp_sendmsg(), whose mark then
 * replaces the first.
 */
SEC("fentry/udp_sendmsg")
int BPF_PROG(nw_pkt_usnd4_p1, struct sock *sk, struct msghdr *msg, size_t len)
{
	NW_FLOOR_RETURN(0);
	udp_send_mark();
	return 0;
}

SEC("fentry/udpv6_sendmsg")
int BPF_PROG(nw_pkt_usnd6_p1, struct sock *sk, struct msghdr *msg, size_t len)
{
	NW_FLOOR_RETURN(0);
	udp_send_mark();
	return 0;
}

/* --udp-send-syscalls */
SEC("tp/syscalls/sys_enter_sendto")
int nw_pkt_usys(void *ctx)
{
	NW_FLOOR_RETURN(0);
	udp_send_mark();
	return 0;
}

#define NR_SENDTO 44
#define NR_SENDMSG 46
#define NR_SENDMMSG 307

SEC("raw_tp/sys_enter")
int BPF_PROG(nw_pkt_usys_f1, struct pt_regs *regs, long id)
{
	NW_FLOOR_RETURN(0);
	if (id != NR_SENDTO && id != NR_SENDMSG && id != NR_SENDMMSG)
		return 0;
	udp_send_mark();
	return 0;
}
