/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, -I: an echo request seen at LOCAL_IN is remembered by (netns, family,
 * peer, id, sequence) until the reply the kernel builds for it (icmp_rcv() -> icmp_echo()
 * -> icmp_reply(), or icmpv6_echo_reply()) passes LOCAL_OUT; the reply's record
 * (struct icmp_event, sent by the tx path) then carries both halves.
 */
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

struct icmp_key {
	__u32 netns;
	__u16 family, id, seq, pad;
	__u8 peer[16];
};

/* The request's times: device, IP receive, LOCAL_IN. */
struct icmp_req {
	__u64 t_drv, t_rcv, t_in;
	__u32 ifindex, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 16384);
	__type(key, struct icmp_key);
	__type(value, struct icmp_req);
} icmp_req SEC(".maps");

static __always_inline int icmp_is_request(const struct nw_flow *f, const struct nw_l4 *l4)
{
	return (f->family == AF_INET && l4->icmp_type == ICMP_ECHO) ||
	       (f->family == AF_INET6 && l4->icmp_type == ICMPV6_ECHO_REQUEST);
}

static __always_inline int icmp_is_reply(const struct nw_flow *f, const struct nw_l4 *l4)
{
	return (f->family == AF_INET && l4->icmp_type == ICMP_ECHO_REPLY) ||
	       (f->family == AF_INET6 && l4->icmp_type == ICMPV6_ECHO_REPLY);
}

/* LOCAL_IN of a request (flow as received: saddr is the pinger). */
static __always_inline void icmp_note_request(const struct nw_flow *f, const struct nw_l4 *l4, __u32 netns,
					      const struct icmp_req *r)
{
	struct icmp_key k = {.netns = netns, .family = f->family, .id = l4->icmp_id, .seq = l4->icmp_seq};
	__builtin_memcpy(k.peer, f->saddr, 16);
	bpf_map_update_elem(&icmp_req, &k, r, BPF_ANY);
}

/* LOCAL_OUT of a reply (flow as sent: daddr is the pinger): its request's times, once. */
static __always_inline int icmp_take_request(const struct nw_flow *f, const struct nw_l4 *l4, __u32 netns,
					     struct icmp_req *out)
{
	struct icmp_key k = {.netns = netns, .family = f->family, .id = l4->icmp_id, .seq = l4->icmp_seq};
	__builtin_memcpy(k.peer, f->daddr, 16);
	struct icmp_req *r = bpf_map_lookup_elem(&icmp_req, &k);
	if (!r)
		return 0;
	*out = *r;
	bpf_map_delete_elem(&icmp_req, &k);
	return 1;
}
