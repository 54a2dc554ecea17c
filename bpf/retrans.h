/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_RETRANS_H
#define NW_RETRANS_H

/* -r: one record per call of tcp_retransmit_skb(). */
struct retrans_event {
	struct nw_hdr hdr;
	struct nw_flow flow;
	__u64 skaddr;
	__u32 seq;            /* TCP_SKB_CB(skb)->seq */
	__u32 end_seq;
	__s32 err;            /* 0, or the -errno the retransmission failed with */
	__u32 total_retrans;  /* tcp_sock->total_retrans after this one */
	__u8 state;           /* sk_state */
	__u8 ca_state;        /* icsk_ca_state: 0 Open 1 Disorder 2 CWR 3 Recovery 4 Loss */
	__u8 pad[6];
};

#endif
