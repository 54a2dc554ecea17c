package dev.netwatcher.event;

/** -S: a TCP socket changed state. oldStateNs is -1 when the socket's previous change predates netwatcher. */
public record TcpStateEvent(EventHeader header, Flow flow, long skaddr, String oldState, String newState,
                            long oldStateNs) implements Event {
    @Override
    public String type() {
        return "tcp_state";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("oldstate", oldState);
        out.string("newstate", newState);
        if (oldStateNs >= 0) out.number("old_state_ns", oldStateNs);
        out.socket(skaddr);
    }

    @Override
    public String detail() {
        String t = oldStateNs < 0 ? "?" : String.format("%.3fms", oldStateNs / 1e6);
        return String.format("%-11s -> %-11s %s", oldState, newState, t);
    }
}
