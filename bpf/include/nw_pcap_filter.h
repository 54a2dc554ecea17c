/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pcap-filter(7) expression, decided in the kernel (issue 32). User space compiles the
 * expression with the system's libpcap (pcap_compile() on a DLT_RAW handle: the packet as seen
 * from its IP header, which every hook netwatcher uses has) into classic BPF, and writes the
 * instructions into .rodata (nw_pcap_insns, nw_pcap_len) before load, so they are in place, frozen,
 * before any program attaches; nw_pcap_match() runs them here, one instruction per bpf_loop()
 * iteration.
 *
 * Why an interpreter over read-only data rather than classic BPF translated to eBPF and linked in: the
 * programs stay the same verified code whatever the expression (a filter cannot make the object
 * fail to load on a stricter verifier, the lesson of the fresh 6.18 machine), and its cost is
 * bounded by the expression's length: classic BPF jumps only forward, so a program of n
 * instructions runs at most n steps (bpf_loop's count).
 *
 * Semantics are classic BPF's (net/core/filter.c, libpcap's bpf_filter()): a load beyond the
 * packet, or a division by zero, ends the program with 0 (no match); the result is the value of
 * the RET instruction, non-zero = match. Loads read the packet's linear data (the headers; on the
 * receive side and for locally made packets the payload of small packets too): a load beyond it
 * but within the packet's length reads nothing and ends with 0, which README says.
 */
#ifndef NW_PCAP_FILTER_H
#define NW_PCAP_FILTER_H

/* At most this many instructions (a power of two; libpcap's optimiser keeps real expressions in tens). */
enum nw_pcap_filter_limit {
	NW_PCAP_MAX_INSNS = 1024,
};
NW_BTF_EXPORT_ENUM(nw_pcap_filter_limit);

/* struct bpf_insn of <pcap/bpf.h>, as pcap_compile() leaves it. */
struct nw_cbpf_insn {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};

NW_BTF_EXPORT(nw_cbpf_insn);

/* Instructions in nw_pcap_insns; 0: no expression, every packet matches. */
const volatile __u32 nw_pcap_len = 0;
const volatile struct nw_cbpf_insn nw_pcap_insns[NW_PCAP_MAX_INSNS] = {};

/*
 * The first NW_PCAP_HDR bytes of the packet are read once, into the run's hdr, and the loads an
 * expression makes (nearly always in the headers) are served from there: one read of kernel memory
 * per packet instead of one helper call per load. A load beyond them reads the packet (pkt), when
 * its address is known.
 */
#define NW_PCAP_HDR 128
_Static_assert(NW_PCAP_HDR == 128, "nw_pcap_hdr_size() masks with NW_PCAP_HDR - 1 in asm");

struct nw_cbpf_run {
	__u64 pkt;                /* the IP header's address; 0: only hdr can be read */
	__u32 linear;             /* bytes readable at pkt (at most NW_PCAP_HDR when pkt is 0) */
	__u32 len;                /* the packet's length from pkt (BPF_LEN) */
	__u32 a, x, pc, ret;
	__u32 busy, pad;          /* the slot is in use (a softirq's run on top of a task's) */
	__u32 m[16];              /* BPF_MEMWORDS */
	__u8 hdr[NW_PCAP_HDR + 4]; /* + 4: a 4-byte load at any offset below NW_PCAP_HDR stays inside */
};

/*
 * Two runs per CPU: a softirq can interrupt a task's run on its CPU (LOCAL_OUT in a send call, then
 * LOCAL_IN of a packet received meanwhile), never the other way round, and softirqs do not nest.
 * In a map, not on the stack: 200 bytes the callers' frames cannot spare; and a verifier never knows
 * a map value's contents, so none can fold the run into constants (6.1 checks a bpf_loop() callback
 * as if it ran once: with the run on the stack it knew pc == 0 and dropped every other opcode).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct nw_cbpf_run);
} nw_pcap_runs SEC(".maps");

/* bpf_loop()'s context must be on the stack: it carries the run. */
struct nw_cbpf_ctx {
	struct nw_cbpf_run *r;
};

/* Classic BPF opcodes (include/uapi/linux/filter.h, <pcap/bpf.h>). */
#define NW_CBPF_CLASS(c) ((c) & 0x07)
#define NW_CBPF_SIZE(c) ((c) & 0x18)
#define NW_CBPF_MODE(c) ((c) & 0xe0)
#define NW_CBPF_OP(c) ((c) & 0xf0)
#define NW_CBPF_SRC(c) ((c) & 0x08)

/* A big-endian load of size bytes at off; 0 when it lies beyond the readable bytes. */
static __always_inline int nw_cbpf_load(struct nw_cbpf_run *r, __u64 off, __u32 size, __u32 *out)
{
	if (off + size > r->linear || off + size > r->len)
		return 0;
	if (off + size <= NW_PCAP_HDR) {
		__u32 o = off & (NW_PCAP_HDR - 1);
		if (size == 4)
			*out = (__u32)r->hdr[o] << 24 | (__u32)r->hdr[o + 1] << 16 | (__u32)r->hdr[o + 2] << 8 | r->hdr[o + 3];
		else if (size == 2)
			*out = (__u32)r->hdr[o] << 8 | r->hdr[o + 1];
		else
			*out = r->hdr[o];
		return 1;
	}
	if (!r->pkt)
		return 0;
	const unsigned char *p = (const unsigned char *)r->pkt;
	if (size == 4) {
		__u32 v = 0;
		if (bpf_probe_read_kernel(&v, 4, p + off))
			return 0;
		*out = bpf_ntohl(v);
	} else if (size == 2) {
		__u16 v = 0;
		if (bpf_probe_read_kernel(&v, 2, p + off))
			return 0;
		*out = bpf_ntohs(v);
	} else {
		__u8 v = 0;
		if (bpf_probe_read_kernel(&v, 1, p + off))
			return 0;
		*out = v;
	}
	return 1;
}

/* One instruction; returns 1 to stop (a RET, or a fault that ends the program with 0). */
static long nw_cbpf_step(__u64 i, void *ctx)
{
	struct nw_cbpf_run *r = ((struct nw_cbpf_ctx *)ctx)->r;
	__u32 pc = r->pc;

	if (pc >= nw_pcap_len)
		goto fail;
	const volatile struct nw_cbpf_insn *in = &nw_pcap_insns[pc & (NW_PCAP_MAX_INSNS - 1)];
	__u16 code = in->code;
	__u8 jt = in->jt, jf = in->jf;
	__u32 k = in->k, v = 0, src;
	r->pc = pc + 1;

	switch (NW_CBPF_CLASS(code)) {
	case 0x00: /* BPF_LD */
	case 0x01: { /* BPF_LDX */
		int ldx = NW_CBPF_CLASS(code) == 0x01;
		__u32 size = NW_CBPF_SIZE(code) == 0x00 ? 4 : NW_CBPF_SIZE(code) == 0x08 ? 2 : 1;
		switch (NW_CBPF_MODE(code)) {
		case 0x00: /* BPF_IMM */
			v = k;
			break;
		case 0x20: /* BPF_ABS */
			if (ldx || !nw_cbpf_load(r, k, size, &v))
				goto fail;
			break;
		case 0x40: /* BPF_IND */
			if (ldx || !nw_cbpf_load(r, (__u64)r->x + k, size, &v))
				goto fail;
			break;
		case 0x60: /* BPF_MEM */
			v = r->m[k & 15];
			break;
		case 0x80: /* BPF_LEN */
			v = r->len;
			break;
		case 0xa0: /* BPF_MSH: 4 * (P[k] & 0xf), the IPv4 header's length */
			if (!ldx || !nw_cbpf_load(r, k, 1, &v))
				goto fail;
			v = (v & 0xf) << 2;
			break;
		default:
			goto fail;
		}
		if (ldx)
			r->x = v;
		else
			r->a = v;
		return 0;
	}
	case 0x02: /* BPF_ST */
		r->m[k & 15] = r->a;
		return 0;
	case 0x03: /* BPF_STX */
		r->m[k & 15] = r->x;
		return 0;
	case 0x04: /* BPF_ALU */
		src = NW_CBPF_SRC(code) ? r->x : k;
		switch (NW_CBPF_OP(code)) {
		case 0x00: r->a += src; break;
		case 0x10: r->a -= src; break;
		case 0x20: r->a *= src; break;
		case 0x30: if (!src) goto fail; r->a /= src; break;
		case 0x90: if (!src) goto fail; r->a %= src; break;
		case 0x40: r->a |= src; break;
		case 0x50: r->a &= src; break;
		case 0xa0: r->a ^= src; break;
		case 0x60: r->a = src < 32 ? r->a << src : 0; break;
		case 0x70: r->a = src < 32 ? r->a >> src : 0; break;
		case 0x80: r->a = -r->a; break;
		default: goto fail;
		}
		return 0;
	case 0x05: { /* BPF_JMP: forward only */
		int taken;
		src = NW_CBPF_SRC(code) ? r->x : k;
		switch (NW_CBPF_OP(code)) {
		case 0x00: r->pc += k; return 0; /* BPF_JA */
		case 0x10: taken = r->a == src; break;
		case 0x20: taken = r->a > src; break;
		case 0x30: taken = r->a >= src; break;
		case 0x40: taken = (r->a & src) != 0; break;
		default: goto fail;
		}
		r->pc += taken ? jt : jf;
		return 0;
	}
	case 0x06: /* BPF_RET */
		r->ret = (code & 0x18) == 0x10 ? r->a : (code & 0x18) == 0x08 ? r->x : k;
		return 1;
	case 0x07: /* BPF_MISC */
		if ((code & 0xf8) == 0x00)
			r->x = r->a; /* BPF_TAX */
		else if ((code & 0xf8) == 0x80)
			r->a = r->x; /* BPF_TXA */
		else
			goto fail;
		return 0;
	}
fail:
	r->ret = 0;
	return 1;
}

/*
 * min(n, NW_PCAP_HDR) for n >= 1, as a size every verifier bounds to [1, NW_PCAP_HDR]: m + 1 with m
 * masked in asm (clang drops a C mask it can prove redundant, and older verifiers do not carry a
 * compare over to the copy they check).
 */
static __always_inline __u64 nw_pcap_hdr_size(__u32 n)
{
	__u64 m = (n < NW_PCAP_HDR ? n : NW_PCAP_HDR) - 1;
	asm volatile("%0 &= 127" : "+r"(m));
	return m + 1;
}

/* A free run of this CPU, marked busy; 0 when both are taken (cannot happen: see nw_pcap_runs). */
static __always_inline struct nw_cbpf_run *nw_pcap_run(void)
{
	__u32 slot = 0;
	struct nw_cbpf_run *r = bpf_map_lookup_elem(&nw_pcap_runs, &slot);
	if (r && r->busy) {
		slot = 1;
		r = bpf_map_lookup_elem(&nw_pcap_runs, &slot);
		if (r && r->busy)
			r = 0;
	}
	if (r) {
		r->busy = 1;
		r->a = r->x = r->pc = r->ret = 0;
	}
	return r;
}

/* Runs the expression over r (its hdr, pkt, linear and len set); 1 on a match. Frees r. */
static __always_inline int nw_pcap_run_done(struct nw_cbpf_run *r)
{
	struct nw_cbpf_ctx c = {.r = r};
	/* a program that runs off its end without a RET matches nothing */
	bpf_loop(nw_pcap_len, nw_cbpf_step, &c, 0);
	int match = r->ret != 0;
	r->busy = 0;
	return match;
}

/*
 * Does the packet at pkt (its IP header; linear bytes readable there, len its length from
 * there) match the expression? 1 when there is none.
 */
static __always_inline int nw_pcap_match(const unsigned char *pkt, __u32 linear, __u32 len)
{
	if (!nw_pcap_len)
		return 1;
	struct nw_cbpf_run *r = nw_pcap_run();
	if (!r)
		return 0;
	r->pkt = (__u64)pkt;
	r->linear = linear;
	r->len = len;
	if (linear && bpf_probe_read_kernel(r->hdr, nw_pcap_hdr_size(linear), pkt))
		r->linear = 0; /* unreadable: every load fails, no match */
	return nw_pcap_run_done(r);
}

/*
 * nw_pcap_match() of a packet program's packet whose IP header is at offset ip (cgroup_skb, the
 * payload options: 0): its first NW_PCAP_HDR bytes from there through bpf_skb_load_bytes(), the only
 * bytes the expression may load in such a program.
 */
static __always_inline int nw_pcap_pass_ctx(struct __sk_buff *skb, __u32 ip)
{
	if (!nw_pcap_len)
		return 1;
	__u32 len = skb->len;
	if (len < ip)
		return 0;
	struct nw_cbpf_run *r = nw_pcap_run();
	if (!r)
		return 0;
	len -= ip;
	r->pkt = 0;
	r->len = len;
	r->linear = len < NW_PCAP_HDR ? len : NW_PCAP_HDR;
	if (len && bpf_skb_load_bytes(skb, ip, r->hdr, nw_pcap_hdr_size(len)))
		r->linear = 0;
	return nw_pcap_run_done(r);
}

/*
 * nw_pcap_match() of an skb whose network header is set (every hook of the packet, netfilter
 * and drop programs use): its linear bytes from the IP header (skb->tail is an offset on 64-bit
 * kernels); its length from there, whether skb->data is before the IP header (the link layer, at
 * a driver) or after it (a protocol pulled its header).
 */
static __always_inline int nw_pcap_pass_skb(const struct sk_buff *skb)
{
	if (!nw_pcap_len)
		return 1;
	__u32 nh = skb->network_header, data = skb->data - skb->head;
	__u32 tail = skb->tail;
	if (nh == 0xffff || tail < nh || skb->len + data < nh)
		return 0;
	return nw_pcap_match(skb->head + nh, tail - nh, skb->len + data - nh);
}

#endif /* NW_PCAP_FILTER_H */
