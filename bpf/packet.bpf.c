// SPDX-License-Identifier: GPL-2.0
/*
 * -t -u -I: per-packet, per-layer latency. Boundaries (kernel 6.18, no kprobes):
 *
 * tx  app send ......... tp tcp_sendmsg_locked (TCP, first loop of a send call)
 *                        cgroup/sendmsg4, sendmsg6 (UDP sends naming their destination; fentry/udp_sendmsg,
 *                        udpv6_sendmsg where fentry runs: every send); --udp-send-syscalls: tp
 *                        syscalls/sys_enter_sendto, _sendmsg, _sendmmsg (raw_tp sys_enter without tracefs)
 *     left TCP/UDP ..... netfilter LOCAL_OUT at INT_MIN+2, just inside -n (__ip_local_out())
 *     to the device .... tp net_dev_queue (__dev_queue_xmit() entry)
 *     driver starts .... tp net_dev_start_xmit (xmit_one())
 *     driver done ...... tp net_dev_xmit (xmit_one(), rc == NETDEV_TX_OK)  -> record
 *
 * rx  device receive ... tp netif_rx (veth, loopback) or napi_gro_receive_entry
 *     IP receive ....... tp netif_receive_skb (__netif_receive_skb_core())
 *     to TCP/UDP ....... netfilter LOCAL_IN at INT_MAX-2, just inside -n (ip_local_deliver())
 *     on the socket .... tp sk_data_ready (sock_def_readable())
 *     to the app ....... tp skb_copy_datagram_iovec (TCP: skb_copy_datagram_iter()) -> record
 *                        tp sock_recv_length (UDP: end of sock_recvmsg()) -> record
 *
 * Kernels without netfilter BPF programs or the newer tracepoints (6.1) but with fentry get
 * stand-ins named <program>_f<n> (user space loads them only where <program> cannot load):
 * LOCAL_OUT -> fentry ip_output/ip6_output, LOCAL_IN -> fentry ip(6)_protocol_deliver_rcu,
 * tcp_sendmsg_locked/sock_send_length -> fentry/fexit tcp_sendmsg_locked, fexit udp(v6)_sendmsg,
 * sk_data_ready -> fentry sock_def_readable, sock_recv_length -> fexit udp(v6)_recvmsg.
 *
 * One object, one unit per concern, each in its own file:
 *   packet_agg.bpf.h     the record's exit: in-kernel histograms (--metrics), flow totals
 *   packet_tx.bpf.h      the send path, LOCAL_OUT to the driver
 *   packet_tcp_rx.bpf.h  TCP receive: a per-flow ring of segments, in arrival order
 *   packet_udp_rx.bpf.h  UDP receive: datagrams in socket-queue order
 *   packet_icmp.bpf.h    echo request/reply pairing (-I)
 *   packet_rx.bpf.h      the receive hooks, device to LOCAL_IN, which hand over to the three above
 *
 * State is keyed only across the asynchronous waits (qdisc queue, device backlog, socket
 * queue); the synchronous stretch from LOCAL_OUT to the driver on a device without a
 * queue passes through per-CPU scratch (packet_tx.bpf.h). Every keyed table is an LRU map
 * with per-CPU LRU lists (BPF_F_NO_COMMON_LRU: no lock shared by all CPUs on every update,
 * kernel/bpf/bpf_lru_list.c): a long run does not grow.
 */
#include "nw_skb.h"
#include "maps.bpf.h"
#include "bits.bpf.h"
#include "packet.h"
#include "nw_capture.h"
#include "nw_pcap_filter.h"

NW_BTF_EXPORT(packet_event);
NW_BTF_EXPORT(icmp_event);
NW_BTF_EXPORT(capture_event);
NW_BTF_EXPORT(flow_key);
NW_BTF_EXPORT(flow_totals);
NW_BTF_EXPORT(layer_hist);
NW_BTF_EXPORT(packet_count);
NW_BTF_EXPORT_ENUM(nw_layer);
NW_BTF_EXPORT_ENUM(nw_dir);
NW_BTF_EXPORT_ENUM(nw_hist_proto);
NW_BTF_EXPORT_ENUM(nw_hist_shape);
NW_BTF_EXPORT_ENUM(nw_pkt_flag);
NW_BTF_EXPORT_ENUM(nw_capture_limit);
NW_BTF_EXPORT_ENUM(nw_link);
NW_BTF_EXPORT_ENUM(nw_capture_dir);
NW_BTF_EXPORT_ENUM(nf_inet_hooks);  /* the kernel's: where the LOCAL_OUT and LOCAL_IN programs attach */

enum nw_packet_mode {
	NW_MODE_TCP = 1,
	NW_MODE_UDP = 2,
	NW_MODE_ICMP = 4,
};
const volatile __u32 nw_modes = 0; /* enum nw_packet_mode bits */

/*
 * --metrics: 0 = records only, 1 = records and in-kernel histograms,
 * 2 = histograms only (no record reaches user space: the always-on mode).
 */
enum nw_aggregate {
	NW_AGG_NONE = 0,
	NW_AGG_ALSO = 1,
	NW_AGG_ONLY = 2,
};
const volatile __u32 nw_aggregate = NW_AGG_NONE;

/*
 * --sample N: 1 packet in N is followed (1 = all). The decision is a function of bytes the
 * packet carries from the first hook to the last (sampled()), so every hook of a packet
 * takes the same decision without state; counts in flow totals and histograms are scaled
 * by N (one sampled packet stands for N).
 */
const volatile __u32 nw_sample = 1;

#define NF_ACCEPT 1
#define TCP_TIME_WAIT 6
#define TCP_NEW_SYN_RECV 12

/* Counters user space reads (nw_counters index). */
/*
 * NW_C_UNFINISHED: a packet seen at LOCAL_OUT whose scratch slot was taken back before the
 * driver's xmit freed it: dropped between LOCAL_OUT and the device, sent later from another
 * CPU (a neighbour resolution queue), or a device tracepoint the kernel ran no BPF for.
 * NW_C_UNFINISHED_BYTES: their transport payload bytes.
 */
enum nw_packet_counter {
	NW_C_EVICTED = 0,
	NW_C_UNMATCHED = 1,
	NW_C_UNFINISHED = 2,
	NW_C_UNFINISHED_BYTES = 3,
	NW_C_RX_UNSEEN = 4,      /* a datagram read whose sk_data_ready or read ran no BPF: its record is lost */
	NW_C_RX_NO_DEVICE = 5,   /* a packet at LOCAL_IN without its device times: its record lacks driver (and ip) */
	NW_C_CAPTURE_LOST = 6,   /* -w: a frame not put in the full ring (its record may be there) */
	NW_C_COUNT = 7,
};
NW_BTF_EXPORT_ENUM(nw_packet_mode);
NW_BTF_EXPORT_ENUM(nw_aggregate);
NW_BTF_EXPORT_ENUM(nw_packet_counter);
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NW_C_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} nw_counters SEC(".maps");

static __always_inline void count_add(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&nw_counters, &which);
	if (c)
		*c += n;
}

static __always_inline void count(__u32 which)
{
	count_add(which, 1);
}

static __always_inline int before(__u32 a, __u32 b) { return (__s32)(a - b) < 0; }
static __always_inline int after(__u32 a, __u32 b) { return before(b, a); }

static __always_inline int wanted(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return nw_modes & NW_MODE_TCP;
	if (proto == IPPROTO_UDP)
		return nw_modes & NW_MODE_UDP;
	if (proto == IPPROTO_ICMP || proto == NW_IPPROTO_ICMPV6)
		return nw_modes & NW_MODE_ICMP;
	return 0;
}

/*
 * --sample: is this packet one of the 1 in N? nh is its network header. The key is 8 bytes
 * that differ from packet to packet and do not change on the way through the host: for
 * IPv4 the identification, fragment offset, TTL, protocol and checksum (nh + 4); for IPv6
 * the first 8 bytes after the fixed header (TCP ports and sequence, UDP ports, length and
 * checksum, ICMPv6 type, checksum, id and sequence). TTL is not decremented on the local
 * paths followed here (no forwarding).
 */
static __always_inline int sampled(const unsigned char *nh, __u8 version)
{
	__u64 key = 0;

	if (nw_sample <= 1)
		return 1;
	if (bpf_probe_read_kernel(&key, sizeof(key), nh + (version == 6 ? 40 : 4)))
		return 0;
	return (__u32)(nw_mix64(key) >> 32) % nw_sample == 0;
}

/* sampled() of an skb whose network header is set (netfilter hooks, net_dev_queue and later). */
static __always_inline int sampled_skb(const struct sk_buff *skb)
{
	if (nw_sample <= 1)
		return 1;
	unsigned char *nh = skb->head + skb->network_header;
	__u8 b = 0;
	bpf_probe_read_kernel(&b, 1, nh);
	return sampled(nh, b >> 4);
}

/*
 * The transport protocol of a packet at its network header, from one or two bytes,
 * before any parsing: 255 when it cannot be told that cheaply (IPv6 extension headers).
 */
static __always_inline __u8 proto_hint(const unsigned char *nh)
{
	__u8 b[10];

	if (bpf_rdonly_cast) {
		const struct iphdr *ip = NW_CAST(struct iphdr, nh);
		__u8 v = nw_cast_byte0(ip) >> 4;
		if (v == 4)
			return ip->protocol;
		if (v == 6) {
			__u8 next = NW_CAST(struct ipv6hdr, nh)->nexthdr;
			if (next == 0 || next == 43 || next == 44 || next == 51 || next == 60)
				return 255;
			return next;
		}
		return 0;
	}
	if (bpf_probe_read_kernel(b, sizeof(b), nh))
		return 0;
	if (b[0] >> 4 == 4)
		return b[9];
	if (b[0] >> 4 == 6) {
		if (b[6] == 0 || b[6] == 43 || b[6] == 44 || b[6] == 51 || b[6] == 60)
			return 255;
		return b[6];
	}
	return 0;
}

/*
 * LOCAL_OUT and LOCAL_IN, before any parsing: a protocol we follow (one read of the
 * header, nothing more for the others) and, with --sample, one of the 1 in N.
 */
static __always_inline int nf_wanted(const struct sk_buff *skb)
{
	__u8 hint = proto_hint(skb->head + skb->network_header);

	return (hint == 255 || wanted(hint)) && sampled_skb(skb);
}

/*
 * Are only some packets followed (--sample N, or a filter expression)? The accounting that
 * counts every packet of a flow (TCP sequence gaps at the driver, the GSO segments of a packet
 * not seen at LOCAL_OUT) then stays off: a packet not followed is not a packet missed.
 */
static __always_inline int selective(void)
{
	return nw_sample > 1 || nw_pcap_len;
}

/* Layer time from a to b when both were seen. */
static __always_inline void layer(struct packet_event *e, int l, __u64 a, __u64 b)
{
	if (a && b && b >= a && l >= 0 && l < NW_L_COUNT) {
		e->layer_ns[l] = b - a;
		e->layer_mask |= 1 << l;
	}
}

/* The filter speaks of the local side: sport/saddr are ours in both directions. */
static __always_inline int pass_local(const struct nw_flow *wire, __u32 netns, __u8 dir)
{
	if (dir == NW_DIR_TX)
		return nw_filter_pass(wire, netns);
	struct nw_flow local = *wire;
	nw_flow_reverse(&local);
	return nw_filter_pass(&local, netns);
}

/* Flow of a socket as it appears in packets: IPv4-mapped IPv6 sockets carry IPv4. */
static __always_inline void local_flow_of_sk(struct nw_flow *f, const struct sock *sk)
{
	nw_flow_from_sk(f, sk);
	if (f->family == AF_INET6 && f->daddr[10] == 0xff && f->daddr[11] == 0xff &&
	    !f->daddr[0] && !f->daddr[1] && !f->daddr[2] && !f->daddr[3] && !f->daddr[4] &&
	    !f->daddr[5] && !f->daddr[6] && !f->daddr[7] && !f->daddr[8] && !f->daddr[9]) {
		f->family = AF_INET;
		__builtin_memset(f->saddr, 0, 16);
		__builtin_memset(f->daddr, 0, 16);
		__u32 s = sk->__sk_common.skc_rcv_saddr, d = sk->__sk_common.skc_daddr;
		__builtin_memcpy(f->saddr, &s, 4);
		__builtin_memcpy(f->daddr, &d, 4);
	}
}

static __always_inline int sk_is_full_tcp(const struct sock *sk)
{
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u8 state = sk->__sk_common.skc_state;
	return state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
}

#include "packet_agg.bpf.h"
#include "packet_capture.bpf.h"
#include "packet_icmp.bpf.h"
#include "packet_tx.bpf.h"
#include "packet_tcp_rx.bpf.h"
#include "packet_udp_rx.bpf.h"
#include "packet_rx.bpf.h"
