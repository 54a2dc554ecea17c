package dev.netwatcher.event;

/**
 * -a: a TCP connection ended (it reached CLOSE), like tcplife: how long it lived
 * (from its first state change netwatcher saw; -1 if it predates netwatcher), the
 * state it left, bytes each way and retransmissions. The task is the one seen at
 * its first state change in process context. Flow: local -> remote.
 */
public record TcpCloseEvent(EventHeader header, Flow flow, long skaddr, String lastState, long durationNs, TcpInfo info)
        implements Event {
    @Override
    public String type() {
        return "tcp_close";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("last_state", lastState);
        if (durationNs >= 0) out.number("duration_ns", durationNs);
        out.number("bytes_sent", info.bytesSent());
        out.number("bytes_acked", info.bytesAcked());
        out.number("bytes_received", info.bytesReceived());
        out.number("segs_out", info.segsOut());
        out.number("segs_in", info.segsIn());
        out.number("retrans_total", info.retransTotal());
        out.number("srtt_us", info.srttUs());
        if (info.skErr() != 0) out.string("error", Errnos.name(info.skErr()));
        out.socket(skaddr);
    }

    @Override
    public String detail() {
        return String.format("%-11s %s tx=%dB rx=%dB retrans=%d srtt=%.3fms%s", lastState,
                durationNs < 0 ? "?" : String.format("%.3fms", durationNs / 1e6), info.bytesAcked(), info.bytesReceived(),
                info.retransTotal(), info.srttUs() / 1e3, info.skErr() == 0 ? "" : " err=" + Errnos.name(info.skErr()));
    }
}
