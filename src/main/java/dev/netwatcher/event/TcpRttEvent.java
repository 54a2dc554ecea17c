package dev.netwatcher.event;

/**
 * --rtt (without -x): one TCP connection's smoothed RTT, from the periodic walk of all
 * sockets (those with an RTT sample). minRttUs is -1 before the first sample. Flow: local -> remote.
 */
public record TcpRttEvent(EventHeader header, Flow flow, long skaddr, long srttUs, long rttvarUs, long minRttUs)
        implements Event {
    @Override
    public String type() {
        return "tcp_rtt";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.number("srtt_us", srttUs);
        out.number("rttvar_us", rttvarUs);
        if (minRttUs >= 0) out.number("min_rtt_us", minRttUs);
        out.socket(skaddr);
    }

    @Override
    public String detail() {
        return String.format("srtt=%.3fms rttvar=%.3fms min=%s", srttUs / 1e3, rttvarUs / 1e3,
                minRttUs < 0 ? "-" : String.format("%.3fms", minRttUs / 1e3));
    }
}
