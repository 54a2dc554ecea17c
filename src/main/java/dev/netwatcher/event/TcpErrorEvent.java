package dev.netwatcher.event;

/**
 * -e: an error on a TCP connection. kind: rst_sent (reason = the kernel's sk_rst_reason),
 * rst_recv, bad_csum, sock_error (reason = errno name such as ECONNREFUSED).
 */
public record TcpErrorEvent(EventHeader header, Flow flow, String kind, String reason, String state, long seq,
                            long ack) implements Event {
    @Override
    public String type() {
        return "tcp_error";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("kind", kind);
        if (reason != null) out.string("reason", reason);
        if (state != null) out.string("state", state);
        out.number("seq", seq);
        out.number("ack", ack);
    }

    @Override
    public String detail() {
        return String.format("%-10s %s%s", kind, reason == null ? "" : reason, state == null ? "" : " state=" + state);
    }
}
