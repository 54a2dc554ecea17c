// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns each socket (struct nw_owner in nw_common.h): the task that last sent, received,
 * connected or listened on it. Loaded before every other object, which reads the same
 * socket-storage map (Session shares it), so an event in softirq names its process.
 * No event of its own. Sockets opened before netwatcher started get their owner from a walk
 * of every process's open files matched to each namespace's TCP and UDP sockets (nw_own_files,
 * nw_own_tcp, nw_own_udp), then from their next use.
 */
#include "nw_common.h"

NW_BTF_EXPORT(nw_owner);

/* The current task owns sk from now on (task context only: a syscall on the socket). */
static __always_inline void owner_set(struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct nw_owner *o;

	if (!sk)
		return;
	o = bpf_sk_storage_get(&nw_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o || (o->tid == (__u32)id && o->pid == id >> 32))
		return; /* the same thread again: the common case, no write */
	o->pid = id >> 32;
	o->tid = (__u32)id;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->cgroup = bpf_get_current_cgroup_id();
	o->match = nw_current_match();
}

/* sock_send_length/sock_recv_length fire at the end of sock_sendmsg()/sock_recvmsg() (net/socket.c, 6.3+). */
SEC("tp_btf/sock_send_length")
int BPF_PROG(nw_own_send, struct sock *sk, int ret, int flags)
{
	owner_set(sk);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(nw_own_recv, struct sock *sk, int ret, int flags)
{
	owner_set(sk);
	return 0;
}

/* Kernels without those tracepoints (6.1): the calls themselves. */
SEC("fentry/sock_sendmsg")
int BPF_PROG(nw_own_send_f1, struct socket *sock)
{
	owner_set(sock->sk);
	return 0;
}

SEC("fentry/sock_recvmsg")
int BPF_PROG(nw_own_recv_f1, struct socket *sock)
{
	owner_set(sock->sk);
	return 0;
}

/*
 * connect() and listen(): SYN_SENT and LISTEN are only ever entered from those calls
 * (tcp_v4_connect(), inet_csk_listen_start()), so the task is the caller. A server's accepted
 * sockets then start with the listener's owner (BPF_F_CLONE), before its first read.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_own_state, struct sock *sk, int oldstate, int newstate)
{
	if ((newstate == TCP_SYN_SENT || newstate == TCP_LISTEN) && nw_in_task_context(ctx))
		owner_set(sk);
	return 0;
}

/*
 * Sockets open when netwatcher starts, in two walks (Session.seedOwners, after the setters
 * above are attached). A socket a setter has already named keeps its owner.
 *
 * 1. nw_own_files (iter/task_file), once: every process's open IP sockets, by socket inode,
 *    into nw_seed. Of several processes holding one socket, the first walked (the lowest pid)
 *    names it (BPF_NOEXIST). The walk visits one thread per file table
 *    (task_file_seq_get_next(), kernel/bpf/task_iter.c).
 * 2. nw_own_tcp (iter/tcp) and nw_own_udp (iter/udp), in each network namespace (these walk
 *    the reader's namespace): each socket takes the owner of its inode from nw_seed.
 *
 * Why not one walk: the storage must be created on a socket pointer the verifier trusts. The
 * task_file walk reaches the socket only as bpf_sock_from_file(file)->sk, a pointer some 6.18
 * builds mark untrusted, and bpf_sk_storage_get() refuses it there ("R2 type=untrusted_ptr_");
 * the tcp and udp iterators hand the program the socket itself (bpf_iter_reg of
 * net/ipv4/tcp_ipv4.c and udp.c), which every kernel we support accepts.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 18);
	__type(key, __u64);              /* the socket's inode */
	__type(value, struct nw_owner);
} nw_seed SEC(".maps");

SEC("iter/task_file")
int nw_own_files(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct nw_owner o = {};

	if (!task || !file)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	/* read, not passed to a helper: no trust needed */
	__u16 family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	__u64 ino = BPF_CORE_READ(file, f_inode, i_ino);
	struct cgroup *cg = nw_task_cgroup(task);
	o.pid = task->tgid;
	o.tid = task->pid;
	__builtin_memcpy(o.comm, task->comm, sizeof(o.comm));
	o.cgroup = nw_cgroup_id(cg);
	o.match = nw_owner_match(task->tgid, o.comm, cg);
	bpf_map_update_elem(&nw_seed, &ino, &o, BPF_NOEXIST);
	return 0;
}

/* sk (a full socket from an iterator) takes its seeded owner, unless a setter named it already. */
static __always_inline void owner_seed(struct sock *sk)
{
	__u64 ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	struct nw_owner *seed, *o;

	if (!ino)
		return;
	seed = bpf_map_lookup_elem(&nw_seed, &ino);
	if (!seed)
		return;
	o = bpf_sk_storage_get(&nw_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o && !o->pid) {
		o->tid = seed->tid;
		__builtin_memcpy(o->comm, seed->comm, sizeof(o->comm));
		o->cgroup = seed->cgroup;
		o->match = seed->match;
		o->pid = seed->pid; /* last: a record is taken for an owner once pid is set */
	}
	bpf_map_delete_elem(&nw_seed, &ino);
}

SEC("iter/tcp")
int nw_own_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (!skc)
		return 0;
	/* listeners and established sockets; TIME_WAIT and request sockets have no storage */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (tp)
		owner_seed((struct sock *)tp);
	return 0;
}

SEC("iter/udp")
int nw_own_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *up = ctx->udp_sk;

	if (up)
		owner_seed((struct sock *)up);
	return 0;
}
