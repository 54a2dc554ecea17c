// SPDX-License-Identifier: GPL-2.0
/*
 * -e: TCP errors.
 *  tcp_send_reset      tcp_v4_send_reset()/tcp_v6_send_reset() (sk may be NULL:
 *                      no socket, then skb is the packet answered) and
 *                      tcp_send_active_reset() (skb NULL).
 *  tcp_receive_reset   tcp_reset(): a RST was accepted on sk.
 *  tcp_bad_csum        tcp_checksum_complete() failed in tcp_v4_rcv()/tcp_v6_rcv().
 *  inet_sk_error_report sk_error_report() for inet sockets: sk->sk_err is set.
 *  kfree_skb           a TCP segment dropped for its sequence numbers, the original tool's
 *                      "Invalid SEQ": tcp_validate_incoming() (tcp_sequence() out of the
 *                      window: TCP_INVALID_SEQUENCE, TCP_INVALID_END_SEQUENCE,
 *                      TCP_OLD_SEQUENCE), tcp_data_queue() (TCP_OVERWINDOW, TCP_OLD_DATA),
 *                      tcp_ack() (TCP_INVALID_ACK_SEQUENCE). Out-of-order segments are queued,
 *                      not dropped, and are not reported (the original reported them all).
 * The flow always reads in the direction of the RST or the faulty packet.
 */
#include "nw_skb.h"
#include "tcperr.h"

NW_BTF_EXPORT(tcp_error_event);
NW_BTF_EXPORT_ENUM(nw_tcp_error_kind);

static __always_inline int nw_emit_state(void *ctx, __u32 kind, __u32 reason, const struct sock *sk,
					 const struct sk_buff *skb, int reverse_skb, const struct sock *state_sk)
{
	struct nw_flow flow = {};
	struct nw_l4 l4 = {};
	__u32 netns = 0;
	__u8 state = 0;

	if (skb)
		nw_flow_from_skb(&flow, &l4, skb);
	if (sk) {
		nw_flow_from_sk(&flow, sk);
		netns = nw_sk_netns(sk);
		state = BPF_CORE_READ(sk, __sk_common.skc_state);
	} else if (skb) {
		netns = nw_skb_netns(skb, state_sk);
		if (reverse_skb)
			nw_flow_reverse(&flow);
		if (state_sk)
			state = BPF_CORE_READ(state_sk, __sk_common.skc_state);
	}
	/* the socket whose owner the event names: its own, else the one the segment was for */
	const struct sock *owner = sk ? sk : state_sk;
	if (!nw_filter_pass(&flow, netns) || !nw_owner_pass(ctx, owner))
		return 0;

	struct tcp_error_event *e = nw_reserve(sizeof(*e));
	if (!e)
		return 0;
	nw_fill_hdr(ctx, &e->hdr, NW_EV_TCP_ERROR, netns, owner);
	e->flow = flow;
	e->kind = kind;
	e->reason = reason;
	e->seq = l4.seq;
	e->ack = l4.ack;
	e->state = state;
	e->tcp_flags = l4.tcp_flags;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	nw_submit(e);
	return 0;
}

static __always_inline int nw_emit(void *ctx, __u32 kind, __u32 reason, const struct sock *sk,
				   const struct sk_buff *skb, int reverse_skb)
{
	return nw_emit_state(ctx, kind, reason, sk, skb, reverse_skb, 0);
}

/* Witnesses (see nw_hook_hit): each defined before its probe, so attached first. Slots: */
enum { RST_SENT_SLOT, RST_RECV_SLOT, BAD_CSUM_SLOT, SOCK_ERROR_SLOT, BAD_SEQ_SLOT };

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(nw_w_rst_sent)
{
	NW_FLOOR_RETURN(0);
	nw_hook_hit(RST_SENT_SLOT);
	return 0;
}

/*
 * tcp_send_reset passes a reason (a third argument) since 6.10; 6.1 passes sk and skb.
 * User space sets this from the kernel's BTF; where it is 0 the verifier never sees ctx[2].
 */
const volatile __u32 nw_send_reset_has_reason = 1;

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(nw_tcp_rst_sent, const struct sock *sk, const struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	int reason = nw_send_reset_has_reason ? (int)ctx[2] : 0;

	nw_hook_run(RST_SENT_SLOT);
	return nw_emit(ctx, NW_ERR_RST_SENT, reason, sk, skb, 1);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(nw_w_rst_recv)
{
	NW_FLOOR_RETURN(0);
	nw_hook_hit(RST_RECV_SLOT);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(nw_tcp_rst_recv, struct sock *sk)
{
	NW_FLOOR_RETURN(0);
	nw_hook_run(RST_RECV_SLOT);
	return nw_emit(ctx, NW_ERR_RST_RECV, 0, sk, 0, 0);
}

SEC("tp_btf/tcp_bad_csum")
int BPF_PROG(nw_w_bad_csum)
{
	NW_FLOOR_RETURN(0);
	nw_hook_hit(BAD_CSUM_SLOT);
	return 0;
}

SEC("tp_btf/tcp_bad_csum")
int BPF_PROG(nw_tcp_bad_csum, const struct sk_buff *skb)
{
	NW_FLOOR_RETURN(0);
	nw_hook_run(BAD_CSUM_SLOT);
	return nw_emit(ctx, NW_ERR_BAD_CSUM, 0, 0, skb, 0);
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(nw_w_sock_err)
{
	NW_FLOOR_RETURN(0);
	nw_hook_hit(SOCK_ERROR_SLOT);
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(nw_sock_error, const struct sock *sk)
{
	NW_FLOOR_RETURN(0);
	nw_hook_run(SOCK_ERROR_SLOT);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	return nw_emit(ctx, NW_ERR_SOCK_ERROR, BPF_CORE_READ(sk, sk_err), sk, 0, 0);
}

/*
 * The drop reasons of a segment rejected for its sequence numbers, by name through CO-RE: the
 * values differ between kernels, and a kernel without one of them (TCP_INVALID_END_SEQUENCE
 * came in 6.15, TCP_OLD_SEQUENCE in 6.4) relocates its test to "no match".
 */
enum skb_drop_reason___nw {
	SKB_DROP_REASON_TCP_INVALID_SEQUENCE___nw,
	SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE___nw,
	SKB_DROP_REASON_TCP_OLD_SEQUENCE___nw,
	SKB_DROP_REASON_TCP_OVERWINDOW___nw,
	SKB_DROP_REASON_TCP_OLD_DATA___nw,
	SKB_DROP_REASON_TCP_INVALID_ACK_SEQUENCE___nw,
};

#define NW_IS_REASON(r, name) \
	(bpf_core_enum_value_exists(enum skb_drop_reason___nw, name##___nw) && \
	 (r) == bpf_core_enum_value(enum skb_drop_reason___nw, name##___nw))

static __always_inline int nw_bad_seq(__u32 r)
{
	return NW_IS_REASON(r, SKB_DROP_REASON_TCP_INVALID_SEQUENCE) ||
	       NW_IS_REASON(r, SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE) ||
	       NW_IS_REASON(r, SKB_DROP_REASON_TCP_OLD_SEQUENCE) ||
	       NW_IS_REASON(r, SKB_DROP_REASON_TCP_OVERWINDOW) ||
	       NW_IS_REASON(r, SKB_DROP_REASON_TCP_OLD_DATA) ||
	       NW_IS_REASON(r, SKB_DROP_REASON_TCP_INVALID_ACK_SEQUENCE);
}

/* kfree_skb's fourth argument, rx_sk (6.8+; see drop.bpf.c): set by user space from the kernel's BTF. */
const volatile __u32 nw_kfree_has_rx_sk = 1;

SEC("tp_btf/kfree_skb")
int BPF_PROG(nw_w_bad_seq, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	NW_FLOOR_RETURN(0);
	if (nw_bad_seq(reason))
		nw_hook_hit(BAD_SEQ_SLOT);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(nw_tcp_bad_seq, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	NW_FLOOR_RETURN(0);
	if (!nw_bad_seq(reason))
		return 0;
	nw_hook_run(BAD_SEQ_SLOT);
	return nw_emit_state(ctx, NW_ERR_BAD_SEQ, reason, 0, skb, 0,
			     nw_kfree_has_rx_sk ? (const struct sock *)ctx[3] : 0);
}
