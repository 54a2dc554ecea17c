/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_PAYLOAD_H
#define NW_PAYLOAD_H

#define NW_PAYLOAD_MAX 512 /* a power of 2; up to NW_PAYLOAD_MAX - 1 bytes are copied per record */
#define NW_REDIS_CHUNKS 8  /* records per Redis segment: its first 8 * 511 = 4088 bytes */

enum nw_payload_kind {
	NW_PAYLOAD_HTTP = 1, /* a TCP segment whose payload starts like an HTTP/1.x request or response */
	NW_PAYLOAD_DNS = 2,  /* UDP or TCP to or from port 53 */
	NW_PAYLOAD_TLS = 3,
	NW_PAYLOAD_REDIS = 5, /* a TCP segment to or from the Redis port, copied whole (up to NW_REDIS_CHUNKS records) */
	NW_PAYLOAD_MYSQL = 4, /* a TCP segment to or from the MySQL port that starts a command (seq 0) or its answer (seq 1) */  /* a TCP segment that starts a TLS handshake record with a ClientHello or ServerHello */
};

/*
 * -i, --dns: the first bytes of an application message, copied at the cgroup
 * socket-buffer hooks (BPF_CGROUP_INET_INGRESS/EGRESS, run from sk_filter_trim_cap()
 * on receive and ip_finish_output()/ip6_finish_output() on send). User space parses them.
 */
struct payload_event {
	struct nw_hdr hdr;
	struct nw_flow flow;   /* source -> destination of this packet */
	__u64 cookie;          /* socket cookie: a request and its response share it */
	__u32 seq;             /* TCP: sequence number of the first payload byte (a retransmission repeats it); UDP: 0 */
	__u32 pad;
	__u32 payload_len;     /* transport payload bytes in this packet */
	__u16 captured;        /* bytes of it in data */
	__u8 egress;           /* 1 sent by this host, 0 received */
	__u8 kind;             /* enum nw_payload_kind */
	__u8 data[NW_PAYLOAD_MAX];
};

#endif
