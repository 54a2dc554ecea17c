/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NW_CONN_H
#define NW_CONN_H

/* Why a conn_event was written. */
enum nw_conn_reason {
	NW_CONN_SNAPSHOT = 1, /* periodic walk of every TCP socket (iter/tcp) */
	NW_CONN_STATE = 2,    /* the socket changed state (inet_sock_set_state) */
	NW_CONN_CLOSED = 3,   /* -a: the socket reached CLOSE; duration and task from its first state change */
};

/*
 * -x, -a, --rtt: one TCP socket's numbers. The flow is local -> remote. The
 * fields mirror struct tcp_info as tcp_get_info() fills it, so that they can be
 * compared with `ss -ti`: srtt_us is tcpi_rtt (srtt_us >> 3), rttvar_us is
 * tcpi_rttvar (mdev_us >> 2).
 */
struct conn_event {
	struct nw_hdr hdr;
	struct nw_flow flow;
	__u64 skaddr;          /* kernel address of the socket */
	__u64 duration_ns;     /* CLOSED: time since its first state change seen; 0 if unknown */
	__u64 bytes_sent;
	__u64 bytes_acked;
	__u64 bytes_received;
	__u32 reason;          /* enum nw_conn_reason */
	__u8 state;            /* TCP_ESTABLISHED = 1 ... */
	__u8 oldstate;         /* STATE/CLOSED: the state before */
	__u8 ca_state;         /* icsk_ca_state: 0 Open, 1 Disorder, 2 CWR, 3 Recovery, 4 Loss */
	__u8 pad;
	__u32 snd_una;
	__u32 snd_nxt;
	__u32 rcv_nxt;
	__u32 snd_cwnd;
	__u32 snd_ssthresh;
	__u32 snd_wnd;
	__u32 rcv_wnd;
	__u32 srtt_us;
	__u32 rttvar_us;
	__u32 min_rtt_us;
	__u32 mss;
	__u32 rcv_space;
	__s32 sndbuf;          /* sk_sndbuf (ss: tb) */
	__s32 wmem_queued;     /* sk_wmem_queued (ss: w) */
	__s32 rcvbuf;          /* sk_rcvbuf (ss: rb) */
	__s32 rmem_alloc;      /* sk_rmem_alloc (ss: r) */
	__u32 segs_out;
	__u32 segs_in;
	__u32 total_retrans;   /* every retransmitted segment of the socket's life (ss: retrans:x/TOTAL) */
	__u32 retrans_fast;    /* retransmitted while not in Loss, since netwatcher started */
	__u32 retrans_rto;     /* retransmitted in Loss (after a timeout), since netwatcher started */
	__u32 rto_timeouts;    /* tp->total_rto (kernel >= 6.7), 0 before */
	__u32 ack_backlog;     /* LISTEN: connections waiting for accept() (ss: Recv-Q) */
	__u32 max_ack_backlog; /* LISTEN: the listen() backlog (ss: Send-Q) */
	__s32 sk_err;          /* sk_err: ECONNRESET, ECONNREFUSED, ETIMEDOUT... after tcp_reset()/tcp_write_err() */
	__u32 pad2;
	__u64 ino;             /* the socket's inode (sk_socket->file->f_inode): /proc/PID/fd/N -> socket:[ino]; 0 without a file */
};

/* --rtt: RTT samples per remote address, log2 buckets of microseconds. */
#define NW_RTT_SLOTS 24

/* Slots of the conn_states map: TCP states by number (include/net/tcp_states.h has 14 in 6.18). */
enum nw_conn_shape {
	NW_CONN_STATES = 16,
};

struct rtt_key {
	__u8 addr[16];   /* IPv4 in the first 4 bytes */
	__u32 netns;
	__u16 family;
	__u16 pad;
};

struct rtt_hist {
	__u64 slots[NW_RTT_SLOTS]; /* slot i: [2^i, 2^(i+1)) µs; slot 0 also takes 0 */
	__u64 count;
	__u64 sum_us;
	__u32 min_us;
	__u32 max_us;
};

#endif
