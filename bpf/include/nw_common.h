/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by every netwatcher BPF program: the event header and flow that start
 * every record, the in-kernel filter, lost-event accounting and context helpers.
 * Two parts live in their own files, included where they stand: nw_owner.h (socket
 * owners and the --pid/--comm/--cgroup match) and nw_flow.h (flows and the filter).
 * The Java side of these structs is generated from this object's BTF (ContractGen):
 * a field is written here once, and Java reads it by its generated name.
 */
#ifndef NW_COMMON_H
#define NW_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* Event types: the first u32 after ts_ns of every record. */
enum nw_event_type {
	NW_EV_TCP_STATE = 1,
	NW_EV_RETRANS = 2,
	NW_EV_DROP = 3,
	NW_EV_TCP_ERROR = 4,
	NW_EV_PACKET = 5,
	NW_EV_ICMP = 6,
	NW_EV_NETFILTER = 7,
	NW_EV_CONN = 8,
	NW_EV_PAYLOAD = 9,
	NW_EV_CAPTURE = 10,      /* nw_capture.h struct capture_event of -t -u -I (-w) */
	NW_EV_DROP_CAPTURE = 11, /* the same of -k */
};

struct nw_hdr {
	__u64 ts_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 type;      /* enum nw_event_type */
	__u32 netns;     /* network namespace inode, 0 if unknown */
	__u32 pid;       /* tgid of current task; 0 in interrupt/softirq context */
	__u32 tid;
	char comm[16];
	__u64 cgroup;    /* cgroup v2 id (its directory's inode) of that task, 0 if unknown */
};

struct nw_flow {
	__u8 saddr[16];  /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;     /* host byte order */
	__u16 dport;
	__u16 family;    /* AF_INET, AF_INET6, 0 = not parsed */
	__u8 proto;      /* IPPROTO_* */
	__u8 pad;
};

/* Filter set by user space in .rodata before load (see BpfObject.setRodata). */
struct nw_filter {
	__u32 netns;         /* 0 = any */
	__u16 sport;         /* 0 = any */
	__u16 dport;
	__u8 saddr_family;   /* 0 = any */
	__u8 saddr_prefix;   /* prefix length in bits */
	__u8 daddr_family;
	__u8 daddr_prefix;
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 owner;         /* 1 when any of pid, comm, cgroup is set (nw_owner_pass) */
	__u32 pid;           /* the owner's process (tgid), 0 = any */
	__u64 cgroup;        /* the owner's cgroup v2 id: that cgroup and those below it, 0 = any */
	char comm[16];       /* the owner's task name, "" = any */
};

const volatile struct nw_filter nw_filter = {};

/*
 * clang puts into BTF only types reachable from globals and function
 * signatures; this keeps an event struct in the object's BTF, from which the
 * build generates its Java layout (ContractGen).
 */
#define NW_BTF_EXPORT(name) const volatile struct name *nw_btf_##name __attribute__((unused)) = 0
/* The same for an enum: user space reads its values under their C names (ContractGen). */
#define NW_BTF_EXPORT_ENUM(name) const volatile enum name nw_btf_##name __attribute__((unused)) = 0

NW_BTF_EXPORT_ENUM(nw_event_type);

/* Records that could not be reserved in the ring buffer, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nw_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/*
 * Hook accounting: how often a hook fired against how often its probe ran.
 * The kernel can skip a tracing program without counting it anywhere
 * (recursion_misses stays 0): seen on 6.18 for tp_btf/kfree_skb under a
 * two-CPU drop flood, where a perf-event program and trivial tp_btf/raw_tp
 * programs on the same tracepoint counted every hit. So a hook that must not
 * miss silently gets a witness: a trivial program attached to the same hook
 * *before* the probe (a tracepoint calls its probes in attach order,
 * kernel/tracepoint.c func_add()), which calls nw_hook_hit(); the probe calls
 * nw_hook_run() first thing. Per CPU, the witness runs first in every hit, so
 * hits - runs is exactly the number of hits the probe did not run for (nested
 * hits, e.g. softirq over task context, pair up through `pending`). The
 * witness counts only once user space has set `armed` (on every CPU, after
 * every program is attached), so hits before the probe was attached are not
 * taken for misses; the probe counts a run only for a hit the witness counted.
 * An object with several hooks gives each witness/probe pair its own slot.
 */
#define NW_HOOK_SLOTS 4

struct nw_hook_acct {
	__u64 armed;
	__u64 hits;
	__u64 runs;
	__u64 pending;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NW_HOOK_SLOTS);
	__type(key, __u32);
	__type(value, struct nw_hook_acct);
} nw_hook SEC(".maps");

static __always_inline void nw_hook_hit(__u32 slot)
{
	struct nw_hook_acct *a = bpf_map_lookup_elem(&nw_hook, &slot);

	if (a && a->armed) {
		a->hits++;
		a->pending++;
	}
}

static __always_inline void nw_hook_run(__u32 slot)
{
	struct nw_hook_acct *a = bpf_map_lookup_elem(&nw_hook, &slot);

	if (a && a->pending) {
		a->pending--;
		a->runs++;
	}
}

static __always_inline void *nw_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&nw_lost, &zero);
		if (lost)
			*lost += 1;
	}
	return e;
}

/*
 * Commit a record, waking the consumer only when this record takes the waiting data across
 * a sixteenth of the ring. With the default flags the kernel wakes the consumer for every
 * record once it has caught up (kernel/bpf/ringbuf.c bpf_ringbuf_commit(): an irq_work,
 * then a task wakeup, per record): the consumer then keeps sleeping and waking for one
 * record at a time. Forcing a wakeup on every record while a sixteenth waits is no better:
 * each irq_work_queue() after the previous one ran raises a self-IPI (arch_irq_work_raise(),
 * an x2APIC MSR write, a VM exit in a guest); under `-t` with 4 TCP streams that was one
 * IPI per record, ~200 k/s (perf record -e msr:write_msr). A busy consumer needs no
 * wakeup; a sleeping one gets one when the threshold is crossed, and polls the rings every
 * 20 ms anyway (Session.POLL_MS), so a crossing missed because another CPU reserved
 * between this record's reserve and the query below costs at most that wait.
 * BPF_RB_AVAIL_DATA is producer_pos - consumer_pos, this record included.
 */
static __always_inline void nw_submit_len(void *e, __u64 len)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 limit = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 16;
	/* the record's size in the ring: its 8-byte header, rounded up to 8 */
	__u64 took = ((len + 8 + 7) & ~7ULL);

	bpf_ringbuf_submit(e, avail >= limit && avail < limit + took ? BPF_RB_FORCE_WAKEUP
								: BPF_RB_NO_WAKEUP);
}

#define nw_submit(e) nw_submit_len((e), sizeof(*(e)))

/*
 * Is `current` the task this event belongs to? Softirqs and hardirqs run on
 * the per-CPU interrupt stack (x86-64: do_softirq_own_stack(), irq entry),
 * never on the interrupted task's stack. For tp_btf/raw_tp programs the ctx
 * (the u64 args[] array built by bpf_trace_runN() in kernel/trace/bpf_trace.c)
 * lives on the kernel stack in use, so it lies inside task->stack only in task
 * context. (The BPF frame itself may be on a per-CPU private stack since 6.13,
 * and per-CPU variables such as __preempt_count cannot be resolved for BPF on
 * kernels without CONFIG_KALLSYMS_ALL, so neither serves.) ksoftirqd runs
 * softirqs in task context: it is then reported as itself.
 */
#define NW_STACK_SPAN (64 * 1024)

static __always_inline int nw_in_task_context(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 sp = 0;
	__u64 base = (__u64)task->stack; /* trusted BTF pointer: a direct load */

	/* Read the spilled ctx pointer as a number. */
	bpf_probe_read_kernel(&sp, sizeof(sp), &ctx);
	return base && sp - base < NW_STACK_SPAN;
}

/*
 * May packet programs (netfilter, cgroup_skb) call bpf_get_current_comm()? Kernels before
 * 6.18 do not give it to those program types (6.12: "program of this type cannot use
 * helper bpf_get_current_comm"; bpf_get_current_pid_tgid they have). User space loads
 * with 1 and, if the kernel refuses the object, loads again with 0 (Probe.fallbackRodata):
 * the verifier then never sees the call (a branch on frozen .rodata is dead code), the
 * record carries the pid only, and user space names the task from /proc/PID/comm.
 */
const volatile __u32 nw_skb_comm = 1;
/* The same for bpf_get_current_pid_tgid, which 6.1 does not give cgroup_skb programs. */
const volatile __u32 nw_skb_pid = 1;

#include "nw_owner.h"

/*
 * The header with a time the hook already read (one clock read per hook), naming sk's owner
 * when it has one, else the task when in_task (nw_in_task_context() of the hook's ctx,
 * decided once per hook run), else nobody, with the socket's cgroup. sk: the event's socket
 * or 0. skb_prog: called from a netfilter or cgroup_skb program (see nw_skb_comm), which
 * cannot read the owner.
 */
static __always_inline void nw_fill_hdr_at(struct nw_hdr *h, __u32 type, __u32 netns, __u64 now, int in_task,
					   int skb_prog, const struct sock *sk)
{
	struct nw_owner *o = skb_prog ? 0 : nw_owner_of(sk);

	h->ts_ns = now;
	h->type = type;
	h->netns = netns;
	if (o) {
		h->pid = o->pid;
		h->tid = o->tid;
		__builtin_memcpy(h->comm, o->comm, sizeof(h->comm));
		h->cgroup = o->cgroup;
	} else if (in_task && (!skb_prog || nw_skb_pid)) {
		__u64 id = bpf_get_current_pid_tgid();
		h->pid = id >> 32;
		h->tid = (__u32)id;
		if (!skb_prog || nw_skb_comm)
			bpf_get_current_comm(h->comm, sizeof(h->comm));
		else
			__builtin_memset(h->comm, 0, sizeof(h->comm));
		h->cgroup = !skb_prog ? bpf_get_current_cgroup_id() : sk ? nw_cgroup_id(nw_sk_cgroup(sk)) : 0;
	} else {
		h->pid = 0;
		h->tid = 0;
		__builtin_memset(h->comm, 0, sizeof(h->comm));
		h->cgroup = sk ? nw_cgroup_id(nw_sk_cgroup(sk)) : 0;
	}
}

static __always_inline void nw_fill_hdr(void *ctx, struct nw_hdr *h, __u32 type, __u32 netns, const struct sock *sk)
{
	nw_fill_hdr_at(h, type, netns, bpf_ktime_get_ns(), nw_in_task_context(ctx), 0, sk);
}

/* nw_fill_hdr() for netfilter and cgroup_skb programs. */
static __always_inline void nw_fill_hdr_skb(void *ctx, struct nw_hdr *h, __u32 type, __u32 netns, const struct sock *sk)
{
	nw_fill_hdr_at(h, type, netns, bpf_ktime_get_ns(), nw_in_task_context(ctx), 1, sk);
}

#include "nw_flow.h"

/*
 * tcp_retransmit_skb's third argument, err (the result of __tcp_retransmit_skb()), exists
 * only on newer kernels (6.12 has sk and skb, and fires for successful retransmits only).
 * User space sets this from the kernel's BTF (btf_trace_tcp_retransmit_skb); the verifier
 * never sees the read of ctx[2] where it is 0.
 */
const volatile __u32 nw_retransmit_has_err = 1;

static __always_inline int nw_retransmit_err(__u64 *ctx)
{
	return nw_retransmit_has_err ? (int)ctx[2] : 0;
}

char LICENSE[] SEC("license") = "GPL";

/*
 * bench/floor.sh builds the packet and event objects with -DNW_FLOOR=1: every program then returns at its
 * first statement, so the bench measures what the hooks cost with nothing in them (the tracepoint
 * and netfilter dispatch, the BPF trampoline), the floor no program at these hooks can go below.
 * Normal builds compile the test away.
 */
#ifndef NW_FLOOR
#define NW_FLOOR 0
#endif
#define NW_FLOOR_RETURN(v) do { if (NW_FLOOR) return (v); } while (0)

#endif
