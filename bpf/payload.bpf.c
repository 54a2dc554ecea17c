// SPDX-License-Identifier: GPL-2.0
/*
 * -i, --dns, --tls: application payload for user-space parsers (HTTP/1.x, DNS, TLS hellos).
 * cgroup_skb programs on the root of the cgroup v2 hierarchy see every socket
 * of every process below it, in every network namespace, after GSO is undone on
 * receive and before segmentation on send; skb data starts at the IP header.
 * bpf_skb_load_bytes() reads across paged fragments (TCP sends its payload in
 * page frags). Only packets that carry the first bytes of a message are copied:
 * for HTTP, payloads that start with a request method or "HTTP/1."; for DNS,
 * payloads to or from port 53; for TLS, a handshake record that starts with a ClientHello or
 * ServerHello. Both programs always let the packet pass.
 */
#include "nw_common.h"
#include "payload.h"
#include "nw_pcap_filter.h"

NW_BTF_EXPORT(payload_event);

enum nw_payload_want {
	NW_WANT_HTTP = 1,
	NW_WANT_DNS = 2,
	NW_WANT_TLS = 4,
	NW_WANT_MYSQL = 8,
	NW_WANT_REDIS = 16,
};
NW_BTF_EXPORT_ENUM(nw_payload_want);
NW_BTF_EXPORT_ENUM(nw_payload_kind);
_Static_assert(NW_PAYLOAD_MAX == 512, "the asm mask below is NW_PAYLOAD_MAX - 1");

const volatile __u32 nw_payload_mode = 0;
/* -M: the server port of MySQL/MariaDB (--mysql-port, default 3306) */
const volatile __u16 nw_mysql_port = 3306;
/* -R: the Redis server port (--redis-port, default 6379) */
const volatile __u16 nw_redis_port = 6379;

/* A kfunc since 6.2: weak, so the object loads without it (the netns is then unknown, 0). */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* "GET ", "POST", "PUT ", "HEAD", "DELE"(TE), "PATC"(H), "OPTI"(ONS), "HTTP"(/1.x). */
static __always_inline int http_start(__u32 w)
{
	switch (w) {
	case 0x20544547: /* "GET " little-endian */
	case 0x54534f50: /* "POST" */
	case 0x20545550: /* "PUT " */
	case 0x44414548: /* "HEAD" */
	case 0x454c4544: /* "DELE" */
	case 0x43544150: /* "PATC" */
	case 0x4954504f: /* "OPTI" */
	case 0x50545448: /* "HTTP" */
		return 1;
	}
	return 0;
}

static __always_inline int payload(struct __sk_buff *skb, __u8 egress)
{
	struct nw_flow flow = {};
	__u32 off, seq = 0;
	__u8 proto;

	/*
	 * Headers by direct packet access when they are in the linear part (almost always:
	 * the stack pulls them before these hooks), else skipped: this runs for every packet
	 * of the host, and three bpf_skb_load_bytes() calls cost more than the parse.
	 * (include/nw_skb.h's parser reads a kernel sk_buff with bpf_probe_read_kernel()
	 * and walks IPv6 extension headers; here the packet is directly readable, which
	 * is cheaper, and HTTP/DNS rarely carry extension headers.)
	 */
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;
		if ((void *)(ip + 1) > end)
			return 1;
		if (ip->frag_off & bpf_htons(0x1fff)) /* not the first fragment */
			return 1;
		proto = ip->protocol;
		off = ip->ihl * 4;
		flow.family = AF_INET;
		__builtin_memcpy(flow.saddr, &ip->saddr, 4);
		__builtin_memcpy(flow.daddr, &ip->daddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;
		if ((void *)(ip6 + 1) > end)
			return 1;
		proto = ip6->nexthdr; /* extension headers: not followed, such packets are skipped */
		off = sizeof(*ip6);
		flow.family = AF_INET6;
		__builtin_memcpy(flow.saddr, &ip6->saddr, 16);
		__builtin_memcpy(flow.daddr, &ip6->daddr, 16);
	} else {
		return 1;
	}
	if (off > 60)
		return 1;
	flow.proto = proto;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;
		if ((void *)(th + 1) > end)
			return 1;
		flow.sport = bpf_ntohs(th->source);
		flow.dport = bpf_ntohs(th->dest);
		seq = bpf_ntohl(th->seq);
		off += th->doff * 4;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = data + off;
		if ((void *)(uh + 1) > end)
			return 1;
		flow.sport = bpf_ntohs(uh->source);
		flow.dport = bpf_ntohs(uh->dest);
		off += sizeof(*uh);
	} else {
		return 1;
	}
	if (skb->len <= off)
		return 1;
	__u32 plen = skb->len - off;
	__u8 kind = 0;
	if ((nw_payload_mode & NW_WANT_DNS) && (flow.sport == 53 || flow.dport == 53)) {
		kind = NW_PAYLOAD_DNS;
	} else if ((nw_payload_mode & NW_WANT_REDIS) && proto == IPPROTO_TCP &&
		   (flow.dport == nw_redis_port || flow.sport == nw_redis_port)) {
		kind = NW_PAYLOAD_REDIS; /* every segment: RESP is read as a stream */
	} else if ((nw_payload_mode & NW_WANT_MYSQL) && proto == IPPROTO_TCP && plen >= 5 &&
		   (flow.dport == nw_mysql_port || flow.sport == nw_mysql_port)) {
		/*
		 * A MySQL packet header (3-byte length, sequence id) starting the segment: a command is
		 * sequence 0 towards the server, the first packet of its answer sequence 1 from it
		 * (the handshake's packets are the other way round, and the rest of an answer has
		 * higher numbers). User space checks the rest.
		 */
		__u8 h[4] = {};
		if (off <= 120 && data + off + 4 <= end)
			__builtin_memcpy(h, data + off, 4);
		else if (bpf_skb_load_bytes(skb, off, h, 4))
			return 1;
		if (!((flow.dport == nw_mysql_port && h[3] == 0) || (flow.sport == nw_mysql_port && h[3] == 1)))
			return 1;
		kind = NW_PAYLOAD_MYSQL;
	} else if ((nw_payload_mode & (NW_WANT_HTTP | NW_WANT_TLS)) && proto == IPPROTO_TCP && plen >= 6) {
		__u8 h[8] = {};
		if (off <= 120 && data + off + 6 <= end) /* the payload starts in the linear part */
			__builtin_memcpy(h, data + off, 6);
		else if (bpf_skb_load_bytes(skb, off, h, 6)) /* in page fragments (TCP sends) */
			return 1;
		__u32 w;
		__builtin_memcpy(&w, h, sizeof(w));
		if ((nw_payload_mode & NW_WANT_HTTP) && http_start(w))
			kind = NW_PAYLOAD_HTTP;
		/* a TLS handshake record (type 22, version 3.x) holding a ClientHello (1) or ServerHello (2) */
		else if ((nw_payload_mode & NW_WANT_TLS) && h[0] == 22 && h[1] == 3 && h[2] <= 4 && (h[5] == 1 || h[5] == 2))
			kind = NW_PAYLOAD_TLS;
		else
			return 1;
	} else {
		return 1;
	}

	/* the socket: cgroup_skb runs with skb->sk set to the sending or receiving socket */
	__u32 netns = 0;
	if (bpf_cast_to_kern_ctx) {
		struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
		struct sock *sk = kskb->sk;
		netns = sk ? nw_sk_netns(sk) : 0;
	}
	/* the socket's owner (nw_owners): cgroup_skb may read socket storage of a full socket */
	struct bpf_sock *bsk = skb->sk;
	if (bsk)
		bsk = bpf_sk_fullsock(bsk);
	struct nw_owner *o = bsk ? bpf_sk_storage_get(&nw_owners, bsk, 0, 0) : 0;
	if (o && !o->pid)
		o = 0;
	if (!nw_filter_pass(&flow, netns) || (nw_filter.owner && !(o && o->match)))
		return 1;
	/* a filter expression: decided here, for the candidates of a parser only (cgroup_skb: the IP header at 0) */
	if (!nw_pcap_pass_ctx(skb, 0))
		return 1;

	/*
	 * One record per NW_PAYLOAD_MAX - 1 bytes: a message start needs one; a Redis segment is
	 * copied whole, up to NW_REDIS_CHUNKS records (user space reads Redis as a stream, and a
	 * pipeline puts many commands in one segment). Each record's seq is its first byte's.
	 */
	int chunks = kind == NW_PAYLOAD_REDIS ? NW_REDIS_CHUNKS : 1;
	for (int i = 0; i < NW_REDIS_CHUNKS && i < chunks; i++) {
		__u32 at = i * (NW_PAYLOAD_MAX - 1);
		if (i > 0 && at >= plen)
			break;
		struct payload_event *e = nw_reserve(sizeof(*e));
		if (!e)
			return 1;
		__u64 marker = 0;
		nw_fill_hdr_skb(&marker, &e->hdr, NW_EV_PAYLOAD, netns, 0);
		if (o) {
			e->hdr.pid = o->pid;
			e->hdr.tid = o->tid;
			__builtin_memcpy(e->hdr.comm, o->comm, sizeof(e->hdr.comm));
			e->hdr.cgroup = o->cgroup;
		} else if (!egress) { /* received in softirq: whatever task it interrupted is not the owner */
			e->hdr.pid = 0;
			e->hdr.tid = 0;
			__builtin_memset(e->hdr.comm, 0, sizeof(e->hdr.comm));
		}
		if (!o) /* the cgroup the socket was made in */
			e->hdr.cgroup = bsk ? bpf_sk_cgroup_id(bsk) : 0;
		e->flow = flow;
		e->cookie = bpf_get_socket_cookie(skb);
		e->seq = seq + at;
		e->pad = 0;
		e->payload_len = plen;
		e->egress = egress;
		e->kind = kind;
		/* at most NW_PAYLOAD_MAX - 1 bytes: the mask is what lets the verifier bound the length */
		__u32 left = plen - at;
		__u64 n = left < NW_PAYLOAD_MAX - 1 ? left : NW_PAYLOAD_MAX - 1;
		if (n) {
			/* the length is m + 1 with m masked: at least 1 on every path, which 6.1's verifier
			 * needs to see (it does not carry n != 0 over to the masked copy) */
			__u64 m = n - 1;
			asm volatile("%0 &= 511" : "+r"(m)); /* clang would drop a C mask it can prove redundant */
			n = bpf_skb_load_bytes(skb, off + at, e->data, m + 1) ? 0 : m + 1;
		}
		e->captured = n;
		nw_submit(e);
	}
	return 1;
}

SEC("cgroup_skb/ingress")
int nw_payload_in(struct __sk_buff *skb)
{
	return payload(skb, 0);
}

SEC("cgroup_skb/egress")
int nw_payload_out(struct __sk_buff *skb)
{
	return payload(skb, 1);
}
