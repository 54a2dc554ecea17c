package dev.netwatcher.sink;

import dev.netwatcher.analysis.TimeLoad;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.FlowTotal;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Text;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** Aligned columns with one header line, in the style of the bcc tools. */
public final class ConsoleSink implements EventSink {
    static final String FORMAT = "%-15s %-9s %-10s %-7s %-15s %-5s %-22s %-22s %s%n";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    private final PrintStream out;
    private final List<String> legends;
    private boolean headerDone;

    public ConsoleSink(PrintStream out) {
        this(out, List.of());
    }

    /** legends: one line each explaining a DETAIL layout, printed under the header. */
    public ConsoleSink(PrintStream out, List<String> legends) {
        this.out = out;
        this.legends = List.copyOf(legends);
    }

    public void header() {
        if (!headerDone) {
            for (String l : legends) out.println("# " + l);
            out.printf(FORMAT, "TIME", "EVENT", "NETNS", "PID", "COMM", "PROTO", "SOURCE", "DESTINATION", "DETAIL");
            headerDone = true;
        }
    }

    @Override
    public void timeLoad(TimeLoad.Report r) {
        if (r.rows().isEmpty()) return;
        out.printf("--- time load, %s, last %.1f s ---%n", TIME.format(Instant.ofEpochSecond(0, r.endEpochNs())), r.intervalNs() / 1e9);
        out.printf("%-9s %-3s %-5s %-12s %9s %11s %9s %9s %9s%n", "SOURCE", "DIR", "PROTO", "LAYER", "PACKETS", "TOTAL_MS",
                "P50_US", "P99_US", "MAX_US");
        for (TimeLoad.Row row : r.rows()) {
            out.printf("%-9s %-3s %-5s %-12s %9d %11.3f %9.1f %9.1f %9.1f%n", row.source(), row.dir(), row.proto(), row.layer(),
                    row.packets(), row.totalNs() / 1e6, row.p50Ns() / 1e3, row.p99Ns() / 1e3, row.maxNs() / 1e3);
        }
        out.println("---");
    }

    @Override
    public void flowTotals(long epochNs, List<FlowTotal> totals) {
        if (totals.isEmpty()) return;
        out.printf("--- flow totals, %s ---%n", TIME.format(Instant.ofEpochSecond(0, epochNs)));
        out.printf("%-10s %-5s %-40s %-40s %9s %12s %9s %12s%n", "NETNS", "PROTO", "LOCAL", "REMOTE", "TX_PKTS", "TX_BYTES",
                "RX_PKTS", "RX_BYTES");
        for (FlowTotal t : totals) {
            Flow f = t.flow();
            out.printf("%-10d %-5s %-40s %-40s %9d %12d %9d %12d%n", t.netns(), f.protoName(), Flow.endpoint(f.saddr(), f.sport()),
                    Flow.endpoint(f.daddr(), f.dport()), t.txPackets(), t.txBytes(), t.rxPackets(), t.rxBytes());
        }
        out.println("---");
    }

    @Override
    public void rttHistograms(long epochNs, List<dev.netwatcher.event.RttHistogram> histograms) {
        if (histograms.isEmpty()) return;
        out.printf("--- RTT samples per remote address, %s (log2 buckets, µs) ---%n",
                TIME.format(Instant.ofEpochSecond(0, epochNs)));
        out.printf("%-10s %-40s %9s %10s %10s %10s %10s  %s%n", "NETNS", "REMOTE", "SAMPLES", "MIN_US", "MEAN_US", "P99<=US",
                "MAX_US", "HISTOGRAM");
        for (dev.netwatcher.event.RttHistogram h : histograms) {
            out.printf("%-10d %-40s %9d %10d %10.1f %10d %10d  %s%n", h.netns(), Flow.address(h.remote()), h.count(), h.minUs(),
                    h.meanUs(), h.quantileUpperUs(0.99), h.maxUs(), bars(h.counts()));
        }
        out.println("---");
    }

    /** "[64,128):12 [128,256):3": the non-empty buckets. */
    static String bars(long[] counts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) continue;
            if (!sb.isEmpty()) sb.append(' ');
            sb.append('[').append(i == 0 ? 0 : 1L << i).append(',').append(1L << (i + 1)).append("):").append(counts[i]);
        }
        return sb.toString();
    }

    @Override
    public void accept(Event e) {
        header();
        out.print(line(e));
    }

    /** One event as FORMAT lays it out, built without Formatter (it is the per-packet path). */
    static String line(Event e) {
        return LINE.get().line(e);
    }

    private static final ThreadLocal<LineBuilder> LINE = ThreadLocal.withInitial(LineBuilder::new);

    /** FORMAT's columns appended by hand; the "HH:mm:ss." of the current second is kept. */
    private static final class LineBuilder {
        private final StringBuilder sb = new StringBuilder(256);
        private long second = Long.MIN_VALUE;
        private String secondText = "";

        String line(Event e) {
            EventHeader h = e.header();
            Flow f = e.flow();
            sb.setLength(0);
            time(h.tsNs());
            sb.append(' ');
            Text.left(sb, e.type(), 9).append(' ');
            Text.left(sb, h.netns() == 0 ? "-" : Long.toString(h.netns()), 10).append(' ');
            Text.left(sb, h.hasTask() ? Integer.toString(h.pid()) : "-", 7).append(' ');
            Text.left(sb, h.hasTask() ? h.comm() : "-", 15).append(' ');
            Text.left(sb, f.protoName() == null ? "-" : f.protoName(), 5).append(' ');
            Text.left(sb, Flow.endpoint(f.saddr(), f.sport()), 22).append(' ');
            Text.left(sb, Flow.endpoint(f.daddr(), f.dport()), 22).append(' ');
            e.detail(sb).append(System.lineSeparator());
            return sb.toString();
        }

        private void time(long epochNs) {
            long s = Math.floorDiv(epochNs, 1_000_000_000L);
            if (s != second) {
                second = s;
                secondText = TIME_S.format(Instant.ofEpochSecond(s));
            }
            sb.append(secondText);
            long us = Math.floorMod(epochNs, 1_000_000_000L) / 1000;
            for (long d = 100_000; d > 1 && us < d; d /= 10) sb.append('0');
            sb.append(us);
        }
    }

    private static final DateTimeFormatter TIME_S = DateTimeFormatter.ofPattern("HH:mm:ss.").withZone(ZoneId.systemDefault());

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.flush();
    }
}
