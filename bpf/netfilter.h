/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_NETFILTER_H
#define NW_NETFILTER_H

/* Netfilter hook numbers (enum nf_inet_hooks). */
enum nw_nf_hook {
	NW_NF_PRE_ROUTING = 0,
	NW_NF_LOCAL_IN = 1,
	NW_NF_FORWARD = 2,
	NW_NF_LOCAL_OUT = 3,
	NW_NF_POST_ROUTING = 4,
	NW_NF_HOOKS = 5,
};

/*
 * -n: time each packet spent in each netfilter hook, from our program at the
 * first priority to our program at the last priority of the hook (all the
 * nftables/iptables chains, conntrack and NAT registered between them).
 * Sent when the packet leaves netfilter: after LOCAL_IN (delivered here) or
 * POST_ROUTING (sent or forwarded). hook_mask bit h = hook h was passed.
 */
struct nf_event {
	struct nw_hdr hdr;
	struct nw_flow flow;      /* as on the wire */
	__u64 hook_ns[NW_NF_HOOKS];
	__u32 len;                /* skb->len at the last hook */
	__u32 ifindex;            /* in-device for LOCAL_IN, out-device otherwise */
	__u8 hook_mask;
	__u8 dir;                 /* 0 sent from here, 1 received here, 2 forwarded */
	__u8 pad[6];
};

#endif
