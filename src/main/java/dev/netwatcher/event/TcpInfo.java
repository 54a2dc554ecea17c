package dev.netwatcher.event;

/**
 * The numbers of one TCP socket (struct conn_event, bpf/conn.h), named as in struct
 * tcp_info: srttUs and rttvarUs are tcpi_rtt and tcpi_rttvar as `ss -ti` prints them
 * (rtt:SRTT/RTTVAR in ms). retransFast and retransRto count since netwatcher started;
 * retransTotal is the socket's whole life.
 */
public record TcpInfo(String state, String caState, long sndUna, long sndNxt, long rcvNxt, long cwnd, long ssthresh,
                      long sndWnd, long rcvWnd, long srttUs, long rttvarUs, long minRttUs, long mss, long rcvSpace,
                      int sndbuf, int wmemQueued, int rcvbuf, int rmemAlloc, long bytesSent, long bytesAcked,
                      long bytesReceived, long segsOut, long segsIn, long retransTotal, long retransFast,
                      long retransRto, long rtoTimeouts, long backlog, long backlogMax, int skErr) {
    /** TCP_INFINITE_SSTHRESH: ss leaves ssthresh out then. */
    public static final long INFINITE_SSTHRESH = 0x7fffffffL;
    /** rtt_min before the first RTT sample (minmax_reset() with ~0U). */
    public static final long NO_SAMPLE = 0xffffffffL;

    public boolean listening() {
        return "LISTEN".equals(state);
    }

    /** The JSON/log keys (README "JSON keys", tcp_conn). */
    public void write(FieldWriter out) {
        out.string("state", state);
        if (listening()) {
            out.number("backlog", backlog);
            out.number("backlog_max", backlogMax);
            return;
        }
        out.string("ca_state", caState);
        out.number("snd_una", sndUna);
        out.number("snd_nxt", sndNxt);
        out.number("rcv_nxt", rcvNxt);
        out.number("cwnd", cwnd);
        if (ssthresh < INFINITE_SSTHRESH) out.number("ssthresh", ssthresh);
        out.number("snd_wnd", sndWnd);
        out.number("rcv_wnd", rcvWnd);
        out.number("srtt_us", srttUs);
        out.number("rttvar_us", rttvarUs);
        if (minRttUs != NO_SAMPLE) out.number("min_rtt_us", minRttUs);
        out.number("mss", mss);
        out.number("rcv_space", rcvSpace);
        out.number("sndbuf", sndbuf);
        out.number("sndbuf_used", wmemQueued);
        out.number("rcvbuf", rcvbuf);
        out.number("rcvbuf_used", rmemAlloc);
        out.number("bytes_sent", bytesSent);
        out.number("bytes_acked", bytesAcked);
        out.number("bytes_received", bytesReceived);
        out.number("segs_out", segsOut);
        out.number("segs_in", segsIn);
        out.number("retrans_total", retransTotal);
        out.number("retrans_fast", retransFast);
        out.number("retrans_rto", retransRto);
        out.number("rto_timeouts", rtoTimeouts);
        if (skErr != 0) out.string("error", Errnos.name(skErr));
    }

    /** Console: the few numbers an engineer reads first. */
    public String brief() {
        if (listening()) return String.format("backlog=%d/%d", backlog, backlogMax);
        return String.format("cwnd=%d ssthresh=%s srtt=%.3f/%.3fms wnd=%d/%d seq=%d/%d ack=%d buf=%d/%d,%d/%d "
                        + "bytes=%d/%d retrans=%d(fast %d,rto %d) ca=%s%s",
                cwnd, ssthresh >= INFINITE_SSTHRESH ? "-" : Long.toString(ssthresh), srttUs / 1e3, rttvarUs / 1e3,
                sndWnd, rcvWnd, sndUna, sndNxt, rcvNxt, wmemQueued, sndbuf, rmemAlloc, rcvbuf, bytesAcked, bytesReceived,
                retransTotal, retransFast, retransRto, caState, skErr == 0 ? "" : " err=" + Errnos.name(skErr));
    }
}
