/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_DROP_H
#define NW_DROP_H

/* -k: one record per packet freed with a drop reason (tracepoint skb/kfree_skb). */
struct drop_event {
	struct nw_hdr hdr;
	struct nw_flow flow;
	__u64 location;   /* kernel text address that dropped the packet */
	__u32 reason;     /* enum skb_drop_reason; names come from the kernel's BTF */
	__u32 len;        /* skb->len */
	__u32 seq;        /* TCP sequence number when the packet is TCP */
	__u8 tcp_flags;
	__u8 stack_len;   /* frames in ips[] when the record is a drop_stack_event (--stack), else 0 */
	__u8 pad[2];
};

enum nw_drop_shape {
	NW_DROP_STACK_DEPTH = 24,
};

/* -k --stack: a drop and the kernel stack that freed the packet, innermost frame first. */
struct drop_stack_event {
	struct drop_event drop;
	__u64 ips[NW_DROP_STACK_DEPTH];
};

#endif
