/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Part of nw_common.h (included from it, at this point of it): whose events they are. Each socket's
 * owner in socket storage, and --pid/--comm/--cgroup decided against it or against the current task.
 */
#ifndef NW_OWNER_H
#define NW_OWNER_H

/*
 * Who owns a socket: the task that last sent, received, connected or listened on it, kept in
 * the socket's own storage (owner.bpf.c sets it; one map shared by every object, see
 * Session). BPF_F_CLONE: a socket accept() returns starts with its listener's owner
 * (bpf_sk_storage_clone() in sk_clone_lock()). Events in softirq (most received packets, a
 * retransmission from the RTO timer, a drop at a full receive queue) name their process
 * through it. match: whether this owner passes nw_filter's pid/comm/cgroup, decided when the
 * owner is set (nw_owner_match()), so events only read it.
 */
struct nw_owner {
	__u32 pid;
	__u32 tid;
	__u64 cgroup;
	char comm[16];
	__u32 match;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct nw_owner);
} nw_owners SEC(".maps");

/* At most this many levels of cgroup are walked up to find --cgroup's (nw_cgroup_under). */
#define NW_CGROUP_DEPTH 16

static __always_inline __u64 nw_cgroup_id(const struct cgroup *cg)
{
	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* The cgroup the socket was made in (cgroup v2: sock_cgroup_ptr(), include/linux/cgroup-defs.h). */
static __always_inline struct cgroup *nw_sk_cgroup(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
}

static __always_inline struct cgroup *nw_task_cgroup(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp);
}

/* Is cg --cgroup's cgroup or one below it? (cgroup->self.parent up to the root) */
static __always_inline int nw_cgroup_under(const struct cgroup *cg)
{
	for (int i = 0; i < NW_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == nw_filter.cgroup)
			return 1;
		struct cgroup_subsys_state *up = BPF_CORE_READ(cg, self.parent);
		cg = up ? BPF_CORE_READ(up, cgroup) : 0;
	}
	return 0;
}

/* Does an owner with this pid, comm and cgroup pass --pid, --comm and --cgroup? */
static __always_inline int nw_owner_match(__u32 pid, const char *comm, const struct cgroup *cg)
{
	if (nw_filter.pid && pid != nw_filter.pid)
		return 0;
	if (nw_filter.comm[0]) {
		for (int i = 0; i < 16; i++) {
			if (comm[i] != nw_filter.comm[i])
				return 0;
			if (!comm[i])
				break;
		}
	}
	return !nw_filter.cgroup || nw_cgroup_under(cg);
}

/* nw_owner_match() of the current task (task context, tracing and iterator programs). */
static __always_inline int nw_current_match(void)
{
	char comm[16] = {};

	if (nw_filter.comm[0])
		bpf_get_current_comm(comm, sizeof(comm));
	return nw_owner_match(bpf_get_current_pid_tgid() >> 32, comm,
			      nw_filter.cgroup ? nw_task_cgroup(bpf_get_current_task_btf()) : 0);
}

/* sk's owner, or 0 (no socket, not a full socket, never used by a task since netwatcher started). */
static __always_inline struct nw_owner *nw_owner_of(const struct sock *sk)
{
	struct nw_owner *o = sk ? bpf_sk_storage_get(&nw_owners, (struct sock *)sk, 0, 0) : 0;

	return o && o->pid ? o : 0;
}

/*
 * Does an event of socket sk (0 if none) pass --pid/--comm/--cgroup? Its owner if known, else
 * the current task in task context, else (--cgroup alone) the cgroup the socket was made in;
 * an event with no owner at all does not pass. skb_prog: a netfilter or cgroup_skb program,
 * which may not read socket storage (and on older kernels not the task's name or pid, see
 * nw_skb_comm): the task in task context, else the socket's cgroup.
 */
static __always_inline int nw_owner_pass_at(const struct sock *sk, int in_task, int skb_prog)
{
	if (!nw_filter.owner)
		return 1;
	if (!skb_prog) {
		struct nw_owner *o = nw_owner_of(sk);
		if (o)
			return o->match;
		if (in_task)
			return nw_current_match();
	} else if (in_task && nw_skb_pid && (nw_skb_comm || !nw_filter.comm[0]) && !nw_filter.cgroup) {
		char comm[16] = {};
		if (nw_filter.comm[0])
			bpf_get_current_comm(comm, sizeof(comm));
		return nw_owner_match(bpf_get_current_pid_tgid() >> 32, comm, 0);
	}
	return sk && !nw_filter.pid && !nw_filter.comm[0] && nw_cgroup_under(nw_sk_cgroup(sk));
}

/* nw_owner_pass_at() for a tracing program's ctx. */
static __always_inline int nw_owner_pass(void *ctx, const struct sock *sk)
{
	return !nw_filter.owner || nw_owner_pass_at(sk, nw_in_task_context(ctx), 0);
}

#endif
