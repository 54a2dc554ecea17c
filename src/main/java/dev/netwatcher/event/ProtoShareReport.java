package dev.netwatcher.event;

import java.util.List;

/** -p: the protocol share of the last interval (intervalNs long), busiest protocol first. */
public record ProtoShareReport(long tsNs, long intervalNs, List<ProtoShare> rows) implements Report {
    public ProtoShareReport {
        rows = List.copyOf(rows);
    }

    @Override public String type() { return "proto_share"; }

    @Override
    public void writeFields(FieldWriter w) {
        w.number("interval_ns", intervalNs);
    }

    @Override public String title(String time) { return "protocol share, " + time; }

    @Override
    public String columns() {
        return String.format("%-6s %-16s %10s %13s %10s %13s %6s %6s", "FAMILY", "PROTO", "RX_PKTS", "RX_BYTES", "TX_PKTS",
                "TX_BYTES", "PKT%", "BYTE%");
    }
}
