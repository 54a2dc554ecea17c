/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_CAPTURE_H
#define NW_CAPTURE_H
/*
 * -w: the bytes of a packet, for the pcapng file (packet.bpf.c for -t -u -I, drop.bpf.c for -k).
 * A tracepoint reads kernel memory, not a packet: what is read is the skb's linear area
 * (skb_headlen() bytes from skb->data) and, in front of it, the link-layer header. Bytes in page
 * fragments (TCP payload over a device with TSO or GRO, the tail of a large datagram) are not
 * read, so cap_len < wire_len there.
 * tx: read at net_dev_start_xmit, where the driver is handed the frame as it will send it;
 * rx: at LOCAL_IN, where the link-layer header still lies in front of the network header;
 * drop: at kfree_skb, from the network header (the link-layer header may be gone).
 * The record of the same packet comes after it in the ring and names it by the capture's
 * hdr.ts_ns (packet_event.cap_key; a drop_event's own hdr.ts_ns).
 */
enum nw_capture_limit {
	NW_CAP_MAX = 4096,       /* bytes read at most (a power of 2) */
};

enum nw_link {
	NW_LINK_ETHERNET = 1,    /* LINKTYPE_ETHERNET: from the Ethernet header (also loopback) */
	NW_LINK_RAW = 101,       /* LINKTYPE_RAW: from the IP header (tunnels, devices without one, drops) */
};

enum nw_capture_dir {
	NW_CAP_TX = 0,           /* as enum nw_dir */
	NW_CAP_RX = 1,
	NW_CAP_DROP = 2,
};

struct capture_event {
	struct nw_hdr hdr;       /* type NW_EV_CAPTURE or NW_EV_DROP_CAPTURE; ts_ns: the key; netns */
	char ifname[16];         /* the device's name in its namespace ("" without a device) */
	__u32 ifindex;
	__u32 wire_len;          /* the frame's length: link-layer header + skb->len */
	__u16 cap_len;           /* bytes in data[] */
	__u8 dir;                /* enum nw_capture_dir */
	__u8 link;               /* enum nw_link */
	__u32 pad;
	__u8 data[NW_CAP_MAX];
};

const volatile __u32 nw_snaplen = 0; /* -w --snaplen: bytes kept of each frame; 0: no capture */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_event);
} cap_buf SEC(".maps");

#define NW_ARPHRD_ETHER 1
#define NW_ARPHRD_LOOPBACK 772
#define NW_MAC_UNSET 0xffff
#define NW_ETH_HLEN 14

/*
 * Puts the frame of skb in the ring as a capture_event of type (NW_EV_CAPTURE, NW_EV_DROP_CAPTURE):
 * from the Ethernet header when the device has one and it lies just in front of the network header
 * (mac_header is set on receive by eth_type_trans(), on send by dev_hard_header() at skb->data) and
 * raw is 0, else from the network header. key: the time its record names it by. Returns 0 when it is
 * in the ring, -1 when the ring was full, 1 when there was nothing to read. Every read of the skb is
 * a probe read (BPF_CORE_READ): no verifier has to trust the pointer.
 */
static __always_inline int nw_capture(const struct sk_buff *skb, __u32 type, __u32 netns, __u8 dir, __u64 key, int raw)
{
	__u32 zero = 0;
	struct capture_event *c = bpf_map_lookup_elem(&cap_buf, &zero);
	if (!c)
		return 1;
	unsigned char *head = BPF_CORE_READ(skb, head), *data = BPF_CORE_READ(skb, data);
	__u16 mac = BPF_CORE_READ(skb, mac_header), net = BPF_CORE_READ(skb, network_header);
	__u32 len = BPF_CORE_READ(skb, len), data_len = BPF_CORE_READ(skb, data_len);
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	__u16 devtype = dev ? BPF_CORE_READ(dev, type) : 0;
	__u64 d = data - head;   /* where skb->len starts counting */
	__u64 from = net;
	if (net == NW_MAC_UNSET)
		return 1;
	c->link = NW_LINK_RAW;
	if (!raw && (devtype == NW_ARPHRD_ETHER || devtype == NW_ARPHRD_LOOPBACK) && mac != NW_MAC_UNSET &&
	    mac + NW_ETH_HLEN == net) {
		from = mac;
		c->link = NW_LINK_ETHERNET;
	}
	if (from > d + 256 || d > from + 256) /* not a frame laid out as we read it */
		return 1;
	__u64 end = d + (len - data_len); /* the linear area's end */
	if (end <= from)
		return 1;
	__u64 cap = end - from;
	if (cap > nw_snaplen)
		cap = nw_snaplen;
	if (cap > NW_CAP_MAX)
		cap = NW_CAP_MAX;
	if (bpf_probe_read_kernel(c->data, cap, head + from))
		return 1;
	c->hdr.ts_ns = key;
	c->hdr.type = type;
	c->hdr.netns = netns;
	c->hdr.pid = c->hdr.tid = 0;
	__builtin_memset(c->hdr.comm, 0, sizeof(c->hdr.comm));
	c->hdr.cgroup = 0;
	c->ifname[0] = 0;
	c->ifindex = 0;
	if (dev) {
		BPF_CORE_READ_STR_INTO(&c->ifname, dev, name);
		c->ifindex = BPF_CORE_READ(dev, ifindex);
	}
	c->wire_len = len + d - from;
	c->cap_len = cap;
	c->dir = dir;
	c->pad = 0;
	return bpf_ringbuf_output(&events, c, offsetof(struct capture_event, data) + cap, 0) ? -1 : 0;
}
#endif
