package dev.netwatcher.event;

/** Something netwatcher saw in the kernel, decoded. Sinks render it; they know nothing of BPF. */
public sealed interface Event permits TcpStateEvent, RetransEvent, DropEvent, TcpErrorEvent, PacketEvent, IcmpEvent,
        NetfilterEvent, LatencyAnomalyEvent, TcpConnEvent, TcpCloseEvent, TcpRttEvent, HttpEvent, DnsEvent, TlsEvent, MysqlEvent, RedisEvent {
    EventHeader header();

    Flow flow();

    /** The JSON "type": tcp_state, retrans, drop, tcp_error, packet, icmp, netfilter, latency_anomaly, tcp_conn, tcp_close, tcp_rtt, http, dns. */
    String type();

    /** Writes the keys specific to this type (after the common ones). */
    void writeFields(FieldWriter out);

    /** The console DETAIL column. */
    String detail();

    /** detail() appended to sb; the per-packet types append without building a string first. */
    default StringBuilder detail(StringBuilder sb) {
        return sb.append(detail());
    }
}
