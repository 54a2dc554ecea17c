package dev.netwatcher.event;

import java.util.List;

/**
 * -x and the overview: TCP sockets per state in the last socket walk, TIME_WAIT and request
 * (NEW_SYN_RECV) sockets included, as `ss -tan state ...` counts them.
 */
public record TcpStatesReport(long tsNs, List<Row> rows) implements Report {
    public TcpStatesReport {
        rows = List.copyOf(rows);
    }

    /** One state and its sockets. */
    public record Row(String state, long sockets) implements Report.Row {
        @Override
        public void writeFields(FieldWriter w) {
            w.string("state", state);
            w.number("sockets", sockets);
        }

        @Override
        public String line() {
            return String.format("%-12s %8d", state, sockets);
        }
    }

    @Override public String type() { return "tcp_states"; }

    @Override public String title(String time) { return "TCP sockets by state, " + time; }

    @Override
    public String columns() {
        return String.format("%-12s %8s", "STATE", "SOCKETS");
    }

    /** "ESTABLISHED 3, LISTEN 2" for the states that have sockets, or "none". */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) {
            if (r.sockets() == 0) continue;
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(r.state()).append(' ').append(r.sockets());
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
