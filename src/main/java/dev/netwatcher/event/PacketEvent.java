package dev.netwatcher.event;

/**
 * -t -u -I: one packet and the time it spent in each layer. dir is "tx" or "rx";
 * the flow reads in the direction the packet travelled. len is payload bytes. frame: its
 * bytes with -w, else null (no sink but the pcapng file reads them).
 */
public record PacketEvent(EventHeader header, Flow flow, String dir, Layers layers, long seq, long ack, int len,
                          int ifindex, int tcpFlags, boolean retransmit, boolean gsoSegment, int icmpType, Frame frame)
        implements Event {
    public PacketEvent(EventHeader header, Flow flow, String dir, Layers layers, long seq, long ack, int len,
                       int ifindex, int tcpFlags, boolean retransmit, boolean gsoSegment, int icmpType) {
        this(header, flow, dir, layers, seq, ack, len, ifindex, tcpFlags, retransmit, gsoSegment, icmpType, null);
    }

    @Override
    public String type() {
        return "packet";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("dir", dir);
        out.number("len", len);
        out.number("ifindex", ifindex);
        if (flow.proto() == 6) {
            out.number("seq", seq);
            out.number("ack", ack);
            out.string("tcp_flags", TcpFlags.format(tcpFlags));
            if (retransmit) out.number("retransmit", 1);
        }
        if (gsoSegment) out.number("gso_segment", 1);
        if (flow.proto() == 1 || flow.proto() == 58) out.number("icmp_type", icmpType);
        out.layers("layers_ns", layers);
    }

    /** Console legend of detail(). */
    public static String legend() {
        return "packet: DIR LEN, then µs per layer — tx: TRANSPORT IP QDISC DRIVER; rx: DRIVER IP TRANSPORT SOCKET";
    }

    @Override
    public String detail() {
        return detail(new StringBuilder(96)).toString();
    }

    /** detail() appended to sb: "%-2s %6d %s%s" of dir, len, the layer columns and the protocol's extra. */
    @Override
    public StringBuilder detail(StringBuilder sb) {
        Text.left(sb, dir, 2).append(' ');
        Text.right(sb, len, 6).append(' ');
        layers.columns(sb);
        if (flow.proto() == 6) {
            sb.append(" seq=").append(seq).append(' ').append(TcpFlags.format(tcpFlags));
            if (retransmit) sb.append(" RETRANS");
        } else if (flow.proto() == 1 || flow.proto() == 58) {
            sb.append(" icmp_type=").append(icmpType);
        }
        return sb;
    }
}
