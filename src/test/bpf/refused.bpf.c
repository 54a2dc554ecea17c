// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only object (RefusalIT): the -S object with one more program that every verifier
 * refuses, so that a refused program is seen to cost only itself: the witness and the probe
 * of tcpstate.bpf.c must still load, attach and report.
 */
#include "tcpstate.bpf.c"

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nw_refused_probe, const struct sock *sk)
{
	/* a number used as a pointer: "invalid mem access 'scalar'" on every kernel */
	volatile char *p = (volatile char *)(long)bpf_ktime_get_ns();

	return *p;
}
