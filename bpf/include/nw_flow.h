/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Part of nw_common.h (included from it, at this point of it): a socket's namespace and flow, and
 * the in-kernel filter (--netns, -s/-d, --saddr/--daddr) every probe applies to a flow.
 */
#ifndef NW_FLOW_H
#define NW_FLOW_H

/*
 * sk must be a BTF pointer (a tracepoint or fentry argument, skb->sk, an iterator's socket):
 * the fields below are then plain loads the verifier makes fault-safe (PROBE_MEM), no helper
 * call. bpf_stats under -t, iperf3 1 stream: nw_pkt_ready 430 -> see BENCHMARKS.md, where
 * nw_flow_from_sk() and nw_sk_netns() were eight bpf_probe_read_kernel() calls per use.
 */
static __always_inline __u32 nw_sk_netns(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->ns.inum;
}

/* The addresses and ports of any socket, TIME_WAIT and request sockets included (struct sock_common). */
static __always_inline void nw_flow_from_skc(struct nw_flow *f, const struct sock_common *skc)
{
	__u16 family = skc->skc_family;

	f->family = family;
	f->sport = skc->skc_num;
	f->dport = bpf_ntohs(skc->skc_dport);
	if (family == AF_INET) {
		__u32 s = skc->skc_rcv_saddr, d = skc->skc_daddr;
		__builtin_memcpy(f->saddr, &s, 4);
		__builtin_memcpy(f->daddr, &d, 4);
	} else if (family == AF_INET6) {
		__u32 a[4];
		a[0] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[0];
		a[1] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[1];
		a[2] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[2];
		a[3] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[3];
		__builtin_memcpy(f->saddr, a, 16);
		a[0] = skc->skc_v6_daddr.in6_u.u6_addr32[0];
		a[1] = skc->skc_v6_daddr.in6_u.u6_addr32[1];
		a[2] = skc->skc_v6_daddr.in6_u.u6_addr32[2];
		a[3] = skc->skc_v6_daddr.in6_u.u6_addr32[3];
		__builtin_memcpy(f->daddr, a, 16);
	}
}

static __always_inline void nw_flow_from_sk(struct nw_flow *f, const struct sock *sk)
{
	nw_flow_from_skc(f, &sk->__sk_common);
	f->proto = sk->sk_protocol;
}

static __always_inline int nw_prefix_match(const __u8 *addr, const volatile __u8 *want, __u8 bits)
{
	for (int i = 0; i < 16; i++) {
		if (bits == 0)
			return 1;
		if (bits >= 8) {
			if (addr[i] != want[i])
				return 0;
			bits -= 8;
		} else {
			__u8 mask = (__u8)(0xff << (8 - bits));
			return (addr[i] & mask) == (want[i] & mask);
		}
	}
	return 1;
}

/* True when the event passes the user's filter. netns 0 means "unknown". */
static __always_inline int nw_filter_pass(const struct nw_flow *f, __u32 netns)
{
	if (nw_filter.netns && nw_filter.netns != netns)
		return 0;
	if (nw_filter.sport && nw_filter.sport != f->sport)
		return 0;
	if (nw_filter.dport && nw_filter.dport != f->dport)
		return 0;
	if (nw_filter.saddr_family &&
	    (f->family != nw_filter.saddr_family ||
	     !nw_prefix_match(f->saddr, nw_filter.saddr, nw_filter.saddr_prefix)))
		return 0;
	if (nw_filter.daddr_family &&
	    (f->family != nw_filter.daddr_family ||
	     !nw_prefix_match(f->daddr, nw_filter.daddr, nw_filter.daddr_prefix)))
		return 0;
	return 1;
}

#endif
