/* SPDX-License-Identifier: GPL-2.0 */
/* Bit helpers shared by the probes (after libbpf-tools' bits.bpf.h). */
#ifndef NW_BITS_BPF_H
#define NW_BITS_BPF_H

/* Index of the highest set bit of v, 0 for v <= 1: the log2 bucket of a value. */
static __always_inline __u32 nw_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* A 64-bit mix (the finaliser of splitmix64): spreads every input bit over the result. */
static __always_inline __u64 nw_mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif
