package dev.netwatcher.sink;

import dev.netwatcher.event.CgroupNames;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.LatencyAnomalyEvent;
import dev.netwatcher.event.Report;
import dev.netwatcher.event.Text;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** Aligned columns with one header line, in the style of the bcc tools. */
public final class ConsoleSink implements EventSink {
    static final String FORMAT = "%-15s %-9s %-10s %-7s %-15s %-24s %-5s %-22s %-22s %s%n";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    private final PrintStream out;
    private final java.nio.charset.Charset charset;
    private final List<String> legends;
    private final AnomalyFold fold;
    /** -L is on: packets are counted per flow and direction, the share AnomalyFold weighs anomalies by. */
    private final boolean counting;
    private boolean headerDone;

    public ConsoleSink(PrintStream out) {
        this(out, List.of(), 0);
    }

    /**
     * legends: one line each explaining a DETAIL layout, printed under the header; foldNs: the
     * interval over which -L warnings of one flow and layer are folded into one line (AnomalyFold), 0 without -L.
     */
    public ConsoleSink(PrintStream out, List<String> legends, long foldNs) {
        this.out = out;
        this.charset = out.charset();
        this.legends = List.copyOf(legends);
        this.fold = new AnomalyFold(Math.max(foldNs, 1_000_000_000L), System.nanoTime());
        this.counting = foldNs > 0;
    }

    public void header() {
        if (!headerDone) {
            for (String l : legends) out.println("# " + l);
            out.printf(FORMAT, "TIME", "EVENT", "NETNS", "PID", "COMM", "CGROUP", "PROTO", "SOURCE", "DESTINATION", "DETAIL");
            headerDone = true;
        }
    }

    @Override
    public void report(Report r) {
        if (r.rows().isEmpty()) return;
        out.println("--- " + r.title(TIME.format(Instant.ofEpochSecond(0, r.tsNs()))) + " ---");
        out.println(r.columns());
        for (Report.Row row : r.rows()) out.println(row.line());
        out.println("---");
    }

    @Override
    public void accept(Event e) {
        header();
        if (e instanceof LatencyAnomalyEvent a) {
            print(fold.offer(a, System.nanoTime()));
            return;
        }
        if (counting) {
            switch (e) {
                case dev.netwatcher.event.PacketEvent p -> fold.record(p.header().netns(), p.flow(), "packet", p.dir());
                case dev.netwatcher.event.NetfilterEvent n -> fold.record(n.header().netns(), n.flow(), "netfilter", n.dir());
                case dev.netwatcher.event.IcmpEvent i -> {
                    for (String d : new String[] {"rx", "in", "tx"}) fold.record(i.header().netns(), i.flow(), "icmp", d);
                }
                default -> { }
            }
        }
        write(line(e));
    }

    /**
     * A line as bytes in the stream's charset, straight to its buffer: PrintStream.print(String) goes through
     * a BufferedWriter and a charset encoder and flushes both on each call: 125-140 ns a line of 160 characters
     * against 64 ns for StringBuilder.toString, String.getBytes and write (2 million lines a round, JDK 25, 2-vCPU VM).
     */
    private void write(String line) {
        byte[] b = line.getBytes(charset);
        out.write(b, 0, b.length);
    }

    /** A line that is not an event ("# " and the text): what a bounded table left out. */
    public void comment(String text) {
        header();
        out.println("# " + text);
    }

    private void print(List<AnomalyFold.Line> lines) {
        for (AnomalyFold.Line l : lines) write(l.detail() == null ? line(l.event()) : LINE.get().line(l.event(), l.detail()));
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
            return line(e, null);
        }

        /** e's line, with detail (when not null) in place of its own DETAIL. */
        String line(Event e, String detail) {
            EventHeader h = e.header();
            Flow f = e.flow();
            sb.setLength(0);
            time(h.tsNs());
            sb.append(' ');
            Text.left(sb, e.type(), 9).append(' ');
            if (h.netns() == 0) Text.left(sb, "-", 10).append(' ');
            else Text.left(sb, h.netns(), 10).append(' ');
            if (h.hasTask()) Text.left(sb, h.pid(), 7).append(' ');
            else Text.left(sb, "-", 7).append(' ');
            Text.left(sb, h.hasTask() ? h.comm() : "-", 15).append(' ');
            Text.left(sb, CgroupNames.shortName(h.cgroup(), 24), 24).append(' ');
            Text.left(sb, f.protoName() == null ? "-" : f.protoName(), 5).append(' ');
            int at = sb.length();
            Text.padFrom(Flow.endpoint(sb, f.saddr(), f.sport()), at, 22).append(' ');
            at = sb.length();
            Text.padFrom(Flow.endpoint(sb, f.daddr(), f.dport()), at, 22).append(' ');
            (detail == null ? e.detail(sb) : sb.append(detail)).append(System.lineSeparator());
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
        print(fold.tick(System.nanoTime()));
        out.flush();
    }

    @Override
    public void close() {
        print(fold.end(System.nanoTime()));
        if (fold.quiet() > 0) {
            out.println("# -L: " + fold.quiet() + " latency anomalies not shown: blips (none " + AnomalyFold.LARGE_NS / 1_000_000
                    + " ms and " + (int) AnomalyFold.LARGE_FACTOR + "x its threshold; fewer than " + AnomalyFold.PERSISTENT + ", or under "
                    + (int) (AnomalyFold.SHARE * 100) + " % of the flow's packets, in a flow's layer in an interval); "
                    + "--json and anomaly.log have every one");
        }
        out.flush();
    }
}
