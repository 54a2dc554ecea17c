package dev.netwatcher.event;

import java.util.List;

/** -t/-u: packets and bytes per flow so far (periodically and at exit). */
public record FlowTotalsReport(long tsNs, List<FlowTotal> rows) implements Report {
    public FlowTotalsReport {
        rows = List.copyOf(rows);
    }

    @Override public String type() { return "flow_totals"; }

    @Override public String title(String time) { return "flow totals, " + time; }

    @Override
    public String columns() {
        return String.format("%-10s %-5s %-40s %-40s %9s %12s %9s %12s", "NETNS", "PROTO", "LOCAL", "REMOTE", "TX_PKTS",
                "TX_BYTES", "RX_PKTS", "RX_BYTES");
    }
}
