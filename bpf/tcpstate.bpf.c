// SPDX-License-Identifier: GPL-2.0
/*
 * -S: TCP state changes. inet_sock_set_state fires from inet_sk_set_state()
 * and inet_sk_state_store() for every protocol; we keep TCP. The time spent in
 * the old state comes from the previous change of the same socket, so sockets
 * that existed before start-up report their first change with old_state_ns 0.
 * On the change to CLOSE, tcp_set_state() has already released the local port
 * (inet_put_port() runs before inet_sk_state_store() fires the tracepoint), so
 * the port remembered from the previous change is reported instead.
 */
#include "nw_common.h"
#include "tcpstate.h"

NW_BTF_EXPORT(tcp_state_event);

struct nw_sock_seen {
	__u64 since_ns;  /* time of the socket's last state change */
	__u16 sport;     /* local port at that time */
	__u16 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nw_sock_seen);
} nw_state_since SEC(".maps");

/* The witness of nw_tcp_state (see nw_hook_hit): defined first, so attached first. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_w_tcp_state)
{
	NW_FLOOR_RETURN(0);
	nw_hook_hit(0);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_tcp_state, const struct sock *sk, int oldstate, int newstate)
{
	NW_FLOOR_RETURN(0);
	struct nw_flow flow = {};
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	__u64 since_ns = 0;
	__u32 netns;

	nw_hook_run(0);
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	nw_flow_from_sk(&flow, sk);
	struct nw_sock_seen *seen = bpf_map_lookup_elem(&nw_state_since, &key);
	if (seen) {
		since_ns = now - seen->since_ns;
		if (flow.sport == 0)
			flow.sport = seen->sport;
	}
	if (newstate == TCP_CLOSE) {
		if (seen)
			bpf_map_delete_elem(&nw_state_since, &key);
	} else {
		struct nw_sock_seen next = {.since_ns = now, .sport = flow.sport};
		bpf_map_update_elem(&nw_state_since, &key, &next, BPF_ANY);
	}
	netns = nw_sk_netns(sk);
	if (!nw_filter_pass(&flow, netns) || !nw_owner_pass(ctx, sk))
		return 0;

	struct tcp_state_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return 0;
	nw_fill_hdr(ctx, &e->hdr, NW_EV_TCP_STATE, netns, sk);
	e->flow = flow;
	e->skaddr = key;
	e->old_state_ns = since_ns;
	e->oldstate = oldstate;
	e->newstate = newstate;
	nw_submit(e);
	return 0;
}
