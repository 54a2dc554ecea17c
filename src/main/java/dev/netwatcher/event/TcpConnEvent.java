package dev.netwatcher.event;

/**
 * -x: one TCP socket's numbers, from the periodic walk of all sockets (reason
 * "snapshot") or at a state change ("state", with the state before). Flow: local -> remote.
 */
public record TcpConnEvent(EventHeader header, Flow flow, long skaddr, String reason, String oldState, TcpInfo info)
        implements Event {
    @Override
    public String type() {
        return "tcp_conn";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("reason", reason);
        if (oldState != null) out.string("oldstate", oldState);
        info.write(out);
        out.socket(skaddr);
    }

    @Override
    public String detail() {
        String state = oldState == null ? info.state() : oldState + "->" + info.state();
        return String.format("%-11s %s", state, info.brief());
    }
}
