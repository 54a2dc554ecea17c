package dev.netwatcher.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Says on stderr, while running, when something is being lost: events the kernel could
 * not put in a full ring buffer, packets whose state was evicted or only partly matched,
 * probe runs the kernel skipped (recursion). Looks once a second, speaks at most once
 * per {@code minGapNs} with what was lost since it last spoke, so a flood gives a few
 * lines, not one per event. The totals are in the exit summary and the metrics.
 */
final class LossWarnings {
    private static final long CHECK_NS = 1_000_000_000L;

    private final Supplier<Map<String, Long>> counts;
    private final PrintWriter err;
    private final long minGapNs;
    private Map<String, Long> reported = Map.of();
    private long lastCheck, lastSpoke = Long.MIN_VALUE / 2;

    /** counts: name -> running total (for example "events lost (ring buffer full)" -> 12). */
    LossWarnings(Supplier<Map<String, Long>> counts, PrintWriter err, long minGapNs) {
        this.counts = counts;
        this.err = err;
        this.minGapNs = minGapNs;
    }

    void check(long now) {
        if (now - lastCheck < CHECK_NS) return;
        lastCheck = now;
        if (now - lastSpoke < minGapNs) return;
        Map<String, Long> current = counts.get();
        Map<String, Long> grown = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : current.entrySet()) {
            long before = reported.getOrDefault(e.getKey(), 0L);
            if (e.getValue() > before) grown.put(e.getKey(), e.getValue() - before);
        }
        if (grown.isEmpty()) return;
        StringBuilder sb = new StringBuilder("netwatcher: warning: since the last report:");
        grown.forEach((k, v) -> sb.append(' ').append(v).append(' ').append(k).append(','));
        sb.setLength(sb.length() - 1);
        if (grown.keySet().stream().anyMatch(k -> k.contains("ring buffer"))) {
            sb.append(" (the consumer cannot keep up: narrow the filters, use --metrics, or --ring-buffer-kb)");
        }
        err.println(sb);
        err.flush();
        reported = current;
        lastSpoke = now;
    }
}
