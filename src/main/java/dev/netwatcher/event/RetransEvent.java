package dev.netwatcher.event;

/** -r: one TCP retransmission (tcp_retransmit_skb). err is 0 or a negative errno. */
public record RetransEvent(EventHeader header, Flow flow, long skaddr, String state, long seq, int len, int err,
                           long totalRetrans, String caState) implements Event {
    @Override
    public String type() {
        return "retrans";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("state", state);
        out.number("seq", seq);
        out.number("len", len);
        out.number("err", err);
        out.number("total_retrans", totalRetrans);
        out.string("ca_state", caState);
        out.socket(skaddr);
    }

    @Override
    public String detail() {
        return String.format("%-11s seq=%d len=%d ca=%s total=%d%s", state, seq, len, caState, totalRetrans,
                err == 0 ? "" : " err=" + err);
    }
}
