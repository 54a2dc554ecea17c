// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns each socket (struct nw_owner in nw_common.h): the task that last sent, received,
 * connected or listened on it. Loaded before every other object, which reads the same
 * socket-storage map (Session shares it), so an event in softirq names its process.
 * No event of its own. Sockets opened before netwatcher started get their owner from a walk
 * of every process's open files (nw_own_seed), then from their next use.
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
 * Sockets open when netwatcher starts: every process's files, once (Session runs it after
 * the programs above are attached). A socket a setter has already named keeps its owner; of
 * several processes holding one socket, the first walked (the lowest pid) names it. The
 * walk visits one thread per file table (task_file_seq_get_next(), kernel/bpf/task_iter.c).
 */
SEC("iter/task_file")
int nw_own_seed(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;

	if (!task || !file)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (!sock || !sock->sk)
		return 0;
	struct nw_owner *o = bpf_sk_storage_get(&nw_owners, sock->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o || o->pid)
		return 0;
	struct cgroup *cg = nw_task_cgroup(task);
	o->tid = task->pid;
	__builtin_memcpy(o->comm, task->comm, sizeof(o->comm));
	o->cgroup = nw_cgroup_id(cg);
	o->match = nw_owner_match(task->tgid, o->comm, cg);
	o->pid = task->tgid; /* last: a record is taken for an owner once pid is set */
	return 0;
}
