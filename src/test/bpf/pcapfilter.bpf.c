// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only object (PcapFilterIT): nw_pcap_match() of bpf/include/nw_pcap_filter.h on a frame
 * given by BPF_PROG_TEST_RUN, so that the kernel's decision can be compared with libpcap's
 * pcap_offline_filter() on the same bytes. The frame is Ethernet; the expression sees it from its
 * IP header, as the packet programs do. Returns 1 for a match, 0 for none. nw_pcap_test reads the
 * packet as the tracing and netfilter programs do (nw_pcap_match()), nw_pcap_test_ctx as the payload
 * options' cgroup_skb programs do (nw_pcap_pass_ctx(): its first NW_PCAP_HDR bytes only).
 */
#include "nw_common.h"
#include "nw_pcap_filter.h"

SEC("tc")
int nw_pcap_test(struct __sk_buff *skb)
{
	unsigned char *data = (unsigned char *)(long)skb->data;
	unsigned char *end = (unsigned char *)(long)skb->data_end;
	__u32 linear = end - data;

	if (linear < 14 || skb->len < 14)
		return 0;
	return nw_pcap_match(data + 14, linear - 14, skb->len - 14);
}

SEC("tc")
int nw_pcap_test_ctx(struct __sk_buff *skb)
{
	return nw_pcap_pass_ctx(skb, 14);
}
