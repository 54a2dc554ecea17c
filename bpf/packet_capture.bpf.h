/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, -w: a followed packet's bytes (struct capture_event in packet.h), put in the
 * ring just before its record. Off (nw_snaplen 0) the verifier removes every call as dead code.
 * Every read of the skb is a probe read (BPF_CORE_READ): no verifier has to trust the pointer.
 */
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
 * The frame of skb as the device sends or received it: from the Ethernet header when the
 * device has one and it lies in front of the network header (mac_header is set on receive by
 * eth_type_trans(), on send by dev_hard_header() at skb->data), else from the network header.
 * key: the time its record carries as cap_key.
 */
static __always_inline void capture(const struct sk_buff *skb, __u32 netns, __u8 dir, __u64 key)
{
	if (!nw_snaplen)
		return;
	__u32 zero = 0;
	struct capture_event *c = bpf_map_lookup_elem(&cap_buf, &zero);
	if (!c)
		return;
	unsigned char *head = BPF_CORE_READ(skb, head), *data = BPF_CORE_READ(skb, data);
	__u16 mac = BPF_CORE_READ(skb, mac_header), net = BPF_CORE_READ(skb, network_header);
	__u32 len = BPF_CORE_READ(skb, len), data_len = BPF_CORE_READ(skb, data_len);
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	__u16 type = BPF_CORE_READ(dev, type);
	__u64 d = data - head;   /* where skb->len starts counting */
	__u64 from = net;
	c->link = NW_LINK_RAW;
	if ((type == NW_ARPHRD_ETHER || type == NW_ARPHRD_LOOPBACK) && mac != NW_MAC_UNSET && mac + NW_ETH_HLEN == net) {
		from = mac;
		c->link = NW_LINK_ETHERNET;
	}
	if (from > d + 256 || d > from + 256) /* not a frame laid out as we read it */
		return;
	__u64 end = d + (len - data_len); /* the linear area's end */
	if (end <= from)
		return;
	__u64 cap = end - from;
	if (cap > nw_snaplen)
		cap = nw_snaplen;
	if (cap > NW_CAP_MAX)
		cap = NW_CAP_MAX;
	if (bpf_probe_read_kernel(c->data, cap, head + from))
		return;
	c->hdr.ts_ns = key;
	c->hdr.type = NW_EV_CAPTURE;
	c->hdr.netns = netns;
	c->hdr.pid = c->hdr.tid = 0;
	__builtin_memset(c->hdr.comm, 0, sizeof(c->hdr.comm));
	c->hdr.cgroup = 0;
	BPF_CORE_READ_STR_INTO(&c->ifname, dev, name);
	c->ifindex = BPF_CORE_READ(dev, ifindex);
	c->wire_len = len + d - from;
	c->cap_len = cap;
	c->dir = dir;
	c->pad = 0;
	if (bpf_ringbuf_output(&events, c, offsetof(struct capture_event, data) + cap, 0))
		count(NW_C_CAPTURE_LOST);
}
