/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_TCPSTATE_H
#define NW_TCPSTATE_H

/* -S: one record per TCP state change (tracepoint sock/inet_sock_set_state). */
struct tcp_state_event {
	struct nw_hdr hdr;
	struct nw_flow flow;
	__u64 skaddr;        /* kernel address of the socket: identifies the connection */
	__u64 old_state_ns;  /* time spent in oldstate; 0 if unknown (socket older than netwatcher) */
	__s32 oldstate;      /* TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12 */
	__s32 newstate;
};

#endif
