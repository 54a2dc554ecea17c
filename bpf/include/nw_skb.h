/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flow extraction from the headers of an sk_buff, for hooks that see a packet
 * rather than a socket (kfree_skb, tcp_bad_csum, tcp_send_reset without sk).
 * The sk_buff's own fields are read directly (the skb is a BTF pointer in tp_btf
 * and netfilter programs: the verifier turns each load into a fault-safe
 * BPF_PROBE_MEM load, no helper call); packet bytes go through
 * bpf_probe_read_kernel: a header that is not there yields a flow with family 0
 * (or without ports), never a fault.
 */
#ifndef NW_SKB_H
#define NW_SKB_H

#include "nw_common.h"

#define NW_IPV6_MAX_EXT 6
#define NW_IP_OFFSET_MASK 0x1fff
#define NW_NEXTHDR_HOP 0
#define NW_NEXTHDR_ROUTING 43
#define NW_NEXTHDR_FRAGMENT 44
#define NW_NEXTHDR_AUTH 51
#define NW_NEXTHDR_DEST 60

struct nw_l4 {
	__u32 seq;       /* TCP only, host order */
	__u32 ack;
	__u8 tcp_flags;  /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	__u8 has_l4;
	__u8 icmp_type;  /* ICMP/ICMPv6 only */
	__u8 icmp_code;
	__u16 icmp_id;   /* echo request/reply identifier and sequence, host order */
	__u16 icmp_seq;
	__u16 l4_off;    /* transport header, in bytes from the network header */
	__u16 l4_hlen;   /* transport header length: payload starts at l4_off + l4_hlen */
};

#define NW_IPPROTO_ICMPV6 58

/* skb_shinfo(): the shared info at the end of the data buffer (include/linux/skbuff.h) */
static __always_inline struct skb_shared_info *nw_skb_shinfo(const struct sk_buff *skb)
{
	return (struct skb_shared_info *)(skb->head + skb->end);
}

static __always_inline __u32 nw_skb_netns(const struct sk_buff *skb, const struct sock *sk)
{
	struct net_device *dev = skb->dev;
	if (dev)
		return dev->nd_net.net->ns.inum;
	if (!sk)
		sk = skb->sk;
	if (sk)
		return nw_sk_netns(sk);
	return 0;
}

/*
 * Kernels with bpf_rdonly_cast() (6.2+): a header read through a typed, read-only pointer. Each
 * field is then a load the verifier makes fault-safe (PROBE_MEM: an unreadable address reads
 * as 0), where bpf_probe_read_kernel() is a helper call per header. On 6.1 the weak kfunc is
 * absent, its branch is dead code to the verifier, and the probe reads below do the work.
 */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym __weak;
#define NW_CAST(type, p) ((const type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))

/* The first byte of a header, version and length nibbles (a bitfield byte: read as a byte). */
static __always_inline __u8 nw_cast_byte0(const void *typed)
{
	return *(const __u8 *)typed;
}

static __always_inline int nw_parse_l4_cast(struct nw_flow *f, struct nw_l4 *l4, const unsigned char *p)
{
	if (f->proto == IPPROTO_TCP) {
		const struct tcphdr *th = NW_CAST(struct tcphdr, p);
		f->sport = bpf_ntohs(th->source);
		f->dport = bpf_ntohs(th->dest);
		l4->seq = bpf_ntohl(th->seq);
		l4->ack = bpf_ntohl(th->ack_seq);
		l4->tcp_flags = *((const __u8 *)th + 13);
		l4->l4_hlen = (*((const __u8 *)th + 12) >> 4) * 4;
		l4->has_l4 = 1;
		return 1;
	}
	if (f->proto == IPPROTO_UDP) {
		const struct udphdr *uh = NW_CAST(struct udphdr, p);
		f->sport = bpf_ntohs(uh->source);
		f->dport = bpf_ntohs(uh->dest);
		l4->l4_hlen = sizeof(struct udphdr);
		l4->has_l4 = 1;
		return 1;
	}
	return 0; /* ICMP and the rest: nw_parse_l4() */
}

static __always_inline void nw_parse_l4(struct nw_flow *f, struct nw_l4 *l4, const unsigned char *p)
{
	if (bpf_rdonly_cast && nw_parse_l4_cast(f, l4, p))
		return;
	if (f->proto == IPPROTO_TCP) {
		struct tcphdr th;
		if (bpf_probe_read_kernel(&th, sizeof(th), p))
			return;
		f->sport = bpf_ntohs(th.source);
		f->dport = bpf_ntohs(th.dest);
		l4->seq = bpf_ntohl(th.seq);
		l4->ack = bpf_ntohl(th.ack_seq);
		l4->tcp_flags = ((const __u8 *)&th)[13];
		l4->l4_hlen = th.doff * 4;
		l4->has_l4 = 1;
	} else if (f->proto == IPPROTO_UDP) {
		struct udphdr uh;
		if (bpf_probe_read_kernel(&uh, sizeof(uh), p))
			return;
		f->sport = bpf_ntohs(uh.source);
		f->dport = bpf_ntohs(uh.dest);
		l4->l4_hlen = sizeof(uh);
		l4->has_l4 = 1;
	} else if (f->proto == IPPROTO_ICMP || f->proto == NW_IPPROTO_ICMPV6) {
		/* type, code, checksum, then id and sequence for echo messages */
		__u8 ih[8];
		if (bpf_probe_read_kernel(ih, sizeof(ih), p))
			return;
		l4->icmp_type = ih[0];
		l4->icmp_code = ih[1];
		l4->icmp_id = ((__u16)ih[4] << 8) | ih[5];
		l4->icmp_seq = ((__u16)ih[6] << 8) | ih[7];
		l4->l4_hlen = sizeof(ih);
		l4->has_l4 = 1;
	}
}

/*
 * Parses the IPv4/IPv6 header at skb->head + skb->network_header. skb->protocol
 * says which; when it is not set yet (locally built packets before
 * ip_output()/ip6_output() set it) the IP version nibble decides.
 * Returns 0 when a flow was found.
 */
static __always_inline int nw_flow_from_skb(struct nw_flow *f, struct nw_l4 *l4, const struct sk_buff *skb)
{
	unsigned char *head = skb->head;
	__u16 nh_off = skb->network_header;
	__u16 proto = bpf_ntohs(skb->protocol);
	unsigned char *nh = head + nh_off;
	__u8 version;

	if (!head)
		return -1;
	if (proto == ETH_P_IP) {
		version = 4;
	} else if (proto == ETH_P_IPV6) {
		version = 6;
	} else {
		__u8 b;
		if (proto != 0)
			return -1;
		if (bpf_rdonly_cast)
			b = nw_cast_byte0(NW_CAST(struct iphdr, nh));
		else if (bpf_probe_read_kernel(&b, 1, nh))
			return -1;
		version = b >> 4;
	}

	if (version == 4 && bpf_rdonly_cast) {
		const struct iphdr *ip = NW_CAST(struct iphdr, nh);
		__u8 vihl = nw_cast_byte0(ip);
		if (vihl >> 4 != 4 || (vihl & 0xf) < 5)
			return -1;
		f->family = AF_INET;
		f->proto = ip->protocol;
		__u32 a = ip->saddr;
		__builtin_memcpy(f->saddr, &a, 4);
		a = ip->daddr;
		__builtin_memcpy(f->daddr, &a, 4);
		if (bpf_ntohs(ip->frag_off) & NW_IP_OFFSET_MASK)
			return 0;
		l4->l4_off = (vihl & 0xf) * 4;
		nw_parse_l4(f, l4, nh + l4->l4_off);
		return 0;
	}
	if (version == 6 && bpf_rdonly_cast) {
		const struct ipv6hdr *ip6 = NW_CAST(struct ipv6hdr, nh);
		__u8 next = ip6->nexthdr;
		/* without extension headers (the common case) all of it typed; with them, the walk below */
		if (nw_cast_byte0(ip6) >> 4 == 6 && next != NW_NEXTHDR_HOP && next != NW_NEXTHDR_ROUTING &&
		    next != NW_NEXTHDR_FRAGMENT && next != NW_NEXTHDR_AUTH && next != NW_NEXTHDR_DEST) {
			__u32 a[4];
			f->family = AF_INET6;
			a[0] = ip6->saddr.in6_u.u6_addr32[0];
			a[1] = ip6->saddr.in6_u.u6_addr32[1];
			a[2] = ip6->saddr.in6_u.u6_addr32[2];
			a[3] = ip6->saddr.in6_u.u6_addr32[3];
			__builtin_memcpy(f->saddr, a, 16);
			a[0] = ip6->daddr.in6_u.u6_addr32[0];
			a[1] = ip6->daddr.in6_u.u6_addr32[1];
			a[2] = ip6->daddr.in6_u.u6_addr32[2];
			a[3] = ip6->daddr.in6_u.u6_addr32[3];
			__builtin_memcpy(f->daddr, a, 16);
			f->proto = next;
			l4->l4_off = sizeof(struct ipv6hdr);
			nw_parse_l4(f, l4, nh + sizeof(struct ipv6hdr));
			return 0;
		}
	}

	if (version == 4) {
		struct iphdr iph;
		if (bpf_probe_read_kernel(&iph, sizeof(iph), nh))
			return -1;
		if (iph.version != 4 || iph.ihl < 5)
			return -1;
		f->family = AF_INET;
		f->proto = iph.protocol;
		__builtin_memcpy(f->saddr, &iph.saddr, 4);
		__builtin_memcpy(f->daddr, &iph.daddr, 4);
		/* Only the first fragment carries the transport header. */
		if (bpf_ntohs(iph.frag_off) & NW_IP_OFFSET_MASK)
			return 0;
		l4->l4_off = iph.ihl * 4;
		nw_parse_l4(f, l4, nh + iph.ihl * 4);
		return 0;
	}
	if (version == 6) {
		struct ipv6hdr ip6;
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), nh))
			return -1;
		if (ip6.version != 6)
			return -1;
		f->family = AF_INET6;
		__builtin_memcpy(f->saddr, &ip6.saddr, 16);
		__builtin_memcpy(f->daddr, &ip6.daddr, 16);
		__u8 next = ip6.nexthdr;
		__u32 off = sizeof(ip6);
		for (int i = 0; i < NW_IPV6_MAX_EXT; i++) {
			__u8 ext[2];
			if (next != NW_NEXTHDR_HOP && next != NW_NEXTHDR_ROUTING &&
			    next != NW_NEXTHDR_FRAGMENT && next != NW_NEXTHDR_AUTH &&
			    next != NW_NEXTHDR_DEST)
				break;
			if (bpf_probe_read_kernel(ext, 2, nh + off))
				return 0;
			if (next == NW_NEXTHDR_FRAGMENT) {
				__be16 frag;
				if (bpf_probe_read_kernel(&frag, 2, nh + off + 2))
					return 0;
				if (bpf_ntohs(frag) & 0xfff8) { /* not the first fragment */
					f->proto = ext[0];
					return 0;
				}
				off += 8;
			} else if (next == NW_NEXTHDR_AUTH) {
				off += (ext[1] + 2) * 4;
			} else {
				off += (ext[1] + 1) * 8;
			}
			next = ext[0];
		}
		f->proto = next;
		l4->l4_off = off;
		nw_parse_l4(f, l4, nh + off);
		return 0;
	}
	return -1;
}

/*
 * Transport payload bytes of a packet whose skb->data is at its network header
 * (netfilter hooks, dev_queue_xmit): skb->len less the headers. Works for GSO
 * packets, whose IP total length may be 0 (BIG TCP) or cover one segment only.
 */
static __always_inline __u32 nw_payload_len(const struct sk_buff *skb, const struct nw_l4 *l4)
{
	unsigned char *head = skb->head;
	unsigned char *data = skb->data;
	__u32 nh = skb->network_header;
	__u32 len = skb->len;
	__u32 hdrs = (__u32)(head + nh - data) + l4->l4_off + l4->l4_hlen;

	if (!l4->has_l4 || hdrs > len)
		return 0;
	return len - hdrs;
}

static __always_inline void nw_flow_reverse(struct nw_flow *f)
{
	__u8 tmp[16];
	__builtin_memcpy(tmp, f->saddr, 16);
	__builtin_memcpy(f->saddr, f->daddr, 16);
	__builtin_memcpy(f->daddr, tmp, 16);
	__u16 p = f->sport;
	f->sport = f->dport;
	f->dport = p;
}

#endif
