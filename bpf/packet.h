/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_PACKET_H
#define NW_PACKET_H

/*
 * -t -u -I: one record per packet, built across hooks in the kernel and
 * submitted once. layer_ns[] is indexed by enum nw_layer; a layer is present
 * only when its bit is set in layer_mask (both of its boundaries were seen).
 */
enum nw_layer {
	NW_L_TRANSPORT = 0,
	NW_L_IP = 1,
	NW_L_QDISC = 2,
	NW_L_DRIVER = 3,
	NW_L_SOCKET = 4,
	NW_L_COUNT = 5,
};

enum nw_dir {
	NW_DIR_TX = 0,
	NW_DIR_RX = 1,
};

/* packet_event.flags */
enum nw_pkt_flag {
	NW_PKT_RETRANS = 0x01,   /* TCP segment below snd_nxt when it left TCP, or below what the driver sent */
	NW_PKT_GSO_SEG = 0x02,   /* software GSO segment of a larger packet */
};

struct packet_event {
	struct nw_hdr hdr;
	struct nw_flow flow;     /* as on the wire: saddr is the sender */
	__u64 layer_ns[NW_L_COUNT];
	__u32 seq;               /* TCP */
	__u32 ack;
	__u32 len;               /* transport payload bytes */
	__u32 ifindex;
	__u8 dir;                /* enum nw_dir */
	__u8 layer_mask;         /* 1 << enum nw_layer */
	__u8 tcp_flags;
	__u8 flags;              /* NW_PKT_* */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 pad;
	__u64 cap_key;           /* -w: the ts_ns of its capture_event (driver start, LOCAL_IN); 0: none */
};

/*
 * -I: an ICMP echo request and the reply the kernel sent for it. The flow is
 * the request's (saddr is the pinger). rx_ns: driver, ip of the request;
 * icmp_ns: the request's LOCAL_IN to the reply's LOCAL_OUT (icmp_rcv() ->
 * icmp_echo() -> icmp_reply()); tx_ns: ip, qdisc, driver of the reply.
 */
struct icmp_event {
	struct nw_hdr hdr;
	struct nw_flow flow;
	__u64 rx_ns[2];
	__u64 icmp_ns;
	__u64 tx_ns[3];
	__u64 total_ns;          /* first timestamp of the request to the reply's xmit */
	__u16 id;
	__u16 seq;
	__u32 ifindex;
	__u8 rx_mask;            /* bit 0 driver, bit 1 ip */
	__u8 tx_mask;            /* bit 0 ip, bit 1 qdisc, bit 2 driver */
	__u8 pad[6];
};

/* -t -u: packets and payload bytes per flow (key: netns + flow as sent by us). */
struct flow_key {
	__u32 netns;
	struct nw_flow flow;
};

struct flow_totals {
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_packets;
	__u64 rx_bytes;
};

/*
 * --metrics: per-layer latency histograms kept in the kernel, one per
 * (dir, proto, layer), key = base * NW_L_COUNT + layer with base = dir * NW_HIST_PROTOS
 * + proto (tcp 0, udp 1, icmp 2; aggregate() in packet_agg.bpf.h). Bucket 0 counts values below
 * 2^NW_HIST_MIN_SHIFT ns (1.024 us), bucket b (1..NW_HIST_BUCKETS-2) values in
 * [2^(b+9), 2^(b+10)) ns, the last one everything from 2^34 ns (17.2 s) up.
 */
enum nw_hist_shape {
	NW_HIST_BUCKETS = 26,
	NW_HIST_MIN_SHIFT = 10,
};
enum nw_hist_proto {
	NW_HP_TCP = 0,
	NW_HP_UDP = 1,
	NW_HP_ICMP = 2,       /* ICMP and ICMPv6 */
	NW_HIST_PROTOS = 3,
};

struct layer_hist {
	__u64 buckets[NW_HIST_BUCKETS];
	__u64 sum_ns;
};

/* --metrics: packets and payload bytes per (dir, proto), key = dir * NW_HIST_PROTOS + proto. */
struct packet_count {
	__u64 packets;
	__u64 bytes;
};

#endif
