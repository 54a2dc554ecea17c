package dev.netwatcher.event;

import java.util.List;

/** --rtt: RTT samples per remote address so far (periodically and at exit). */
public record RttReport(long tsNs, List<RttHistogram> rows) implements Report {
    public RttReport {
        rows = List.copyOf(rows);
    }

    @Override public String type() { return "rtt_histogram"; }

    @Override public String title(String time) { return "RTT samples per remote address, " + time + " (log2 buckets, µs)"; }

    @Override
    public String columns() {
        return String.format("%-10s %-40s %9s %10s %10s %10s %10s  %s", "NETNS", "REMOTE", "SAMPLES", "MIN_US", "MEAN_US",
                "P99<=US", "MAX_US", "HISTOGRAM");
    }
}
