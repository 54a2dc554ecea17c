package dev.netwatcher.event;

/**
 * -I: an echo request this host answered. The flow is the request's (saddr is the
 * pinger). icmpNs: from the request's LOCAL_IN to the reply's LOCAL_OUT (icmp_rcv()
 * to icmp_reply()); totalNs: from the request's first timestamp to the reply's xmit.
 */
public record IcmpEvent(EventHeader header, Flow flow, int id, int seq, Layers rx, long icmpNs, Layers tx, long totalNs,
                        int ifindex) implements Event {
    public static final String[] RX = {"driver", "ip"};
    public static final String[] TX = {"ip", "qdisc", "driver"};

    @Override
    public String type() {
        return "icmp";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.number("id", id);
        out.number("seq", seq);
        out.number("ifindex", ifindex);
        out.number("icmp_ns", icmpNs);
        out.number("total_ns", totalNs);
        out.layers("rx_layers_ns", rx);
        out.layers("tx_layers_ns", tx);
    }

    public static String legend() {
        return "icmp: id seq, µs: ICMP (request in -> reply out), TOTAL, rx DRIVER IP, tx IP QDISC DRIVER";
    }

    @Override
    public String detail() {
        return String.format("id=%d seq=%d icmp=%s total=%s rx[%s ] tx[%s ]", id, seq, Layers.micros(icmpNs),
                Layers.micros(totalNs), rx.columns(), tx.columns());
    }
}
