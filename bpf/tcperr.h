/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_TCPERR_H
#define NW_TCPERR_H

enum nw_tcp_error_kind {
	NW_ERR_RST_SENT = 1,   /* reason: enum sk_rst_reason */
	NW_ERR_RST_RECV = 2,
	NW_ERR_BAD_CSUM = 3,
	NW_ERR_SOCK_ERROR = 4, /* reason: sk->sk_err (an errno) */
	NW_ERR_BAD_SEQ = 5,    /* a segment dropped for its sequence numbers; reason: enum skb_drop_reason */
};

/* -e: TCP error packets and socket errors. */
struct tcp_error_event {
	struct nw_hdr hdr;
	struct nw_flow flow;
	__u32 kind;      /* enum nw_tcp_error_kind */
	__u32 reason;
	__u32 seq;       /* from the packet's TCP header when there is one */
	__u32 ack;
	__u8 state;      /* sk_state, 0 when there is no socket */
	__u8 tcp_flags;
	__u8 pad[6];
};

#endif
