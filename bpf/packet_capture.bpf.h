/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, -w: a followed packet's bytes (include/nw_capture.h), put in the ring just before its
 * record. Off (nw_snaplen 0) the verifier removes every call as dead code.
 */
static __always_inline void capture(const struct sk_buff *skb, __u32 netns, __u8 dir, __u64 key)
{
	if (nw_snaplen && nw_capture(skb, NW_EV_CAPTURE, netns, dir, key, 0) < 0)
		count(NW_C_CAPTURE_LOST);
}
