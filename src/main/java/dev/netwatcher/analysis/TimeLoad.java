package dev.netwatcher.analysis;

import dev.netwatcher.event.FieldWriter;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * -L time load: per interval, for each layer of each direction and protocol, how
 * many packets passed, the time they spent there in total, and p50/p99/max.
 * Histograms (HdrHistogram, 2 significant digits, 1 ns to 1 h) are reset each interval.
 */
public final class TimeLoad {
    /** One row of the table. Times in nanoseconds. */
    public record Row(String source, String dir, String proto, String layer, long packets, long totalNs, long p50Ns,
                      long p99Ns, long maxNs) implements dev.netwatcher.event.Report.Row {
        @Override
        public void writeFields(FieldWriter w) {
            w.string("source", source);
            w.string("dir", dir);
            w.string("proto", proto);
            w.string("layer", layer);
            w.number("packets", packets);
            w.number("total_ns", totalNs);
            w.number("p50_ns", p50Ns);
            w.number("p99_ns", p99Ns);
            w.number("max_ns", maxNs);
        }

        @Override
        public String line() {
            return String.format("%-9s %-3s %-5s %-12s %9d %11.3f %9.1f %9.1f %9.1f", source, dir, proto, layer, packets,
                    totalNs / 1e6, p50Ns / 1e3, p99Ns / 1e3, maxNs / 1e3);
        }
    }

    /** The table of one interval. */
    public record Report(long endEpochNs, long intervalNs, List<TimeLoad.Row> rows) implements dev.netwatcher.event.Report {
        @Override public String type() { return "time_load"; }

        @Override public long tsNs() { return endEpochNs; }

        @Override
        public void writeFields(FieldWriter w) {
            w.number("interval_ns", intervalNs);
        }

        @Override
        public String title(String time) {
            return String.format("time load, %s, last %.1f s", time, intervalNs / 1e9);
        }

        @Override
        public String columns() {
            return String.format("%-9s %-3s %-5s %-12s %9s %11s %9s %9s %9s", "SOURCE", "DIR", "PROTO", "LAYER", "PACKETS",
                    "TOTAL_MS", "P50_US", "P99_US", "MAX_US");
        }
    }

    private record Key(String source, String dir, String proto, String layer) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = source.compareTo(o.source);
            if (c == 0) c = dir.compareTo(o.dir);
            if (c == 0) c = proto.compareTo(o.proto);
            return c == 0 ? layer.compareTo(o.layer) : c;
        }
    }

    private static final class Series {
        final Histogram h = new Histogram(1, 3_600_000_000_000L, 2);
        long total;
    }

    private final Map<Key, Series> series = new TreeMap<>();

    public void record(String source, String dir, String proto, String layer, long ns) {
        Series s = series.computeIfAbsent(new Key(source, dir, proto, layer), k -> new Series());
        s.h.recordValue(Math.max(1, Math.min(ns, s.h.getHighestTrackableValue())));
        s.total += ns;
    }

    /** The rows since the last call, in a stable order; then starts a new interval. */
    public Report drain(long endEpochNs, long intervalNs) {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<Key, Series> e : series.entrySet()) {
            Series s = e.getValue();
            long n = s.h.getTotalCount();
            if (n == 0) continue;
            Key k = e.getKey();
            rows.add(new Row(k.source(), k.dir(), k.proto(), k.layer(), n, s.total, s.h.getValueAtPercentile(50),
                    s.h.getValueAtPercentile(99), s.h.getMaxValue()));
            s.h.reset();
            s.total = 0;
        }
        return new Report(endEpochNs, intervalNs, rows);
    }
}
