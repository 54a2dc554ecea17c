package dev.netwatcher.event;

/**
 * -x and the overview: one TCP socket's numbers, from the periodic walk of all sockets
 * (reason "snapshot") or at a state change ("state", with the state before). Flow: local ->
 * remote. owner: the process holding the socket (null if none or not found); role: "client"
 * (it connected), "server" (accepted on a listening port), "listener", or null when unknown;
 * ageNs: time since the connection was seen opening, or, when ageAtLeast, since netwatcher
 * first saw it (it was already open then); -1 when unknown.
 */
public record TcpConnEvent(EventHeader header, Flow flow, long skaddr, String reason, String oldState, TcpInfo info,
                           SocketOwner owner, String role, long ageNs, boolean ageAtLeast) implements Event {
    public TcpConnEvent(EventHeader header, Flow flow, long skaddr, String reason, String oldState, TcpInfo info) {
        this(header, flow, skaddr, reason, oldState, info, null, null, -1, false);
    }

    @Override
    public String type() {
        return "tcp_conn";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("reason", reason);
        if (oldState != null) out.string("oldstate", oldState);
        if (owner != null) {
            out.number("owner_pid", owner.pid());
            out.string("owner_comm", owner.comm());
        }
        if (role != null) out.string("role", role);
        if (ageNs >= 0) {
            out.number("age_ns", ageNs);
            if (ageAtLeast) out.string("age", "at_least");
        }
        info.write(out);
        out.socket(skaddr);
    }

    /** "1h02m", "3m05s", "12.3s"; with a ">" when the connection was open before netwatcher saw it; "-" unknown. */
    public String ageText() {
        if (ageNs < 0) return "-";
        return (ageAtLeast ? ">" : "") + duration(ageNs);
    }

    public static String duration(long ns) {
        long s = ns / 1_000_000_000L;
        if (s >= 3600) return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
        if (s >= 60) return String.format("%dm%02ds", s / 60, s % 60);
        return String.format("%.1fs", ns / 1e9);
    }

    @Override
    public String detail() {
        String state = oldState == null ? info.state() : oldState + "->" + info.state();
        String who = owner == null ? "" : " owner=" + owner.pid() + "/" + owner.comm();
        String r = role == null ? "" : " role=" + role;
        String age = ageNs < 0 ? "" : " age=" + ageText();
        return String.format("%-11s %s%s%s%s", state, info.brief(), who, r, age);
    }
}
