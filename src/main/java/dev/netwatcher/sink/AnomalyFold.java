package dev.netwatcher.sink;

import dev.netwatcher.event.Layers;
import dev.netwatcher.event.LatencyAnomalyEvent;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * -L on the console: what a person should look at, one line per flow and layer per interval.
 * A packet far out (at least LARGE_NS and LARGE_FACTOR times its threshold: a queue that held it,
 * a reader that stalled) is shown as it comes. Smaller anomalies of a flow's layer are shown when
 * the interval ends, as one line, if they were more than blips: at least PERSISTENT of them and at
 * least SHARE of the flow's packets in that direction in the interval (a netfilter chain that slows
 * every packet, a qdisc that starts queueing). Blips (an interrupt in the middle of a hook, a reader
 * woken a few ms late: 0.05 % of a quiet host's packets per layer, and in bursts while a busy host's
 * JIT compiles, bench/anomaly-noise.sh) stay off the console and are counted. After a shown line, the
 * layer's other anomalies of the interval become one line when it ends ("4 more above 6.8 ms, worst
 * 120 ms"). At most MAX_LINES of each kind per interval, then one line for the rest. JSON,
 * anomaly.log, metrics and the live view keep every anomaly.
 */
final class AnomalyFold {
    static final int MAX_LINES = 10, PERSISTENT = 3;
    static final long LARGE_NS = 10_000_000;
    static final double LARGE_FACTOR = 10, SHARE = 0.02;

    /** What to print: the event and, for a summary, the DETAIL text that replaces its own. */
    record Line(LatencyAnomalyEvent event, String detail) {}

    private record Key(long netns, Object flow, String source, String dir, String layer) {}

    /** A flow in one direction, as a source (packet, netfilter, icmp) reports it: SHARE's denominator. */
    private record Path(long netns, Object flow, String source, String dir) {}

    private static final class Seen {
        int count;
        boolean worth, shown;
        long folded;
        LatencyAnomalyEvent worst;
    }

    private final long intervalNs;
    private long start;
    private int direct;
    private long quiet;
    private final Map<Key, Seen> seen = new LinkedHashMap<>();
    private final Map<Path, long[]> packets = new java.util.HashMap<>();

    AnomalyFold(long intervalNs, long nowNanos) {
        this.intervalNs = intervalNs;
        this.start = nowNanos;
    }

    /** A record of a flow's direction (a packet, netfilter or icmp event) in this interval: SHARE's denominator. */
    void record(long netns, Object flow, String source, String dir) {
        packets.computeIfAbsent(new Path(netns, flow, source, dir), k -> new long[1])[0]++;
    }

    /** Lines to print for e (none when it is held or folded), after those of an interval that has ended. */
    List<Line> offer(LatencyAnomalyEvent e, long nowNanos) {
        List<Line> out = tick(nowNanos);
        Seen s = seen.computeIfAbsent(new Key(e.header().netns(), e.flow(), e.source(), e.dir(), e.layer()), k -> new Seen());
        s.count++;
        boolean large = e.valueNs() >= LARGE_NS && e.valueNs() >= LARGE_FACTOR * e.thresholdNs();
        if (large && !s.worth) {
            s.worth = true;
            s.folded += s.count - 1; // the ones held before it join the interval's summary
        }
        if (large && !s.shown && direct < MAX_LINES) {
            s.shown = true;
            direct++;
            out = append(out, new Line(e, null));
        } else {
            if (s.worth) s.folded++;
            if (s.worst == null || e.valueNs() > s.worst.valueNs()) s.worst = e;
        }
        return out;
    }

    /** The summary lines of the interval when it has ended (then a new one starts), else none. */
    List<Line> tick(long nowNanos) {
        if (nowNanos - start < intervalNs) return List.of();
        return end(nowNanos);
    }

    /** The summary lines of the interval so far (at the end of the run). */
    List<Line> end(long nowNanos) {
        double secs = (nowNanos - start) / 1e9;
        start = nowNanos;
        direct = 0;
        List<Seen> folded = new ArrayList<>();
        for (Map.Entry<Key, Seen> e : seen.entrySet()) {
            Seen s = e.getValue();
            Key k = e.getKey();
            long[] n = packets.get(new Path(k.netns(), k.flow(), k.source(), k.dir()));
            if (!s.worth && s.count >= PERSISTENT && s.count >= SHARE * (n == null ? 0 : n[0])) {
                s.worth = true;
                s.folded = s.count;
            }
            if (!s.worth) quiet += s.count;
            else if (s.folded > 0 && s.worst != null) folded.add(s);
        }
        seen.clear();
        packets.clear();
        if (folded.isEmpty()) return List.of();
        folded.sort(Comparator.comparingLong((Seen s) -> s.folded).reversed());
        List<Line> out = new ArrayList<>();
        long restCount = 0;
        for (int i = 0; i < folded.size(); i++) {
            Seen s = folded.get(i);
            if (i < MAX_LINES) out.add(new Line(s.worst, summary(s, secs)));
            else restCount += s.folded;
        }
        if (restCount > 0) {
            Seen last = folded.get(folded.size() - 1);
            out.add(new Line(last.worst, String.format("WARNING and %d more in %d other flows and layers in %.1f s (every one is in --json and anomaly.log)",
                    restCount, folded.size() - MAX_LINES, secs)));
        }
        return out;
    }

    /** Anomalies that were isolated blips, never shown (see the class comment). */
    long quiet() {
        return quiet;
    }

    private static String summary(Seen s, double secs) {
        LatencyAnomalyEvent w = s.worst;
        return String.format("WARNING %s %s %s: %d %s above %s µs in %.1f s, worst %s µs, %.1fx its %s baseline %s µs",
                w.source(), w.dir(), w.layer(), s.folded, s.shown ? "more" : "packets", Layers.micros(w.thresholdNs()), secs,
                Layers.micros(w.valueNs()), w.factor(), w.scope().replace('_', ' '), Layers.micros(w.baselineNs()));
    }

    private static List<Line> append(List<Line> lines, Line l) {
        List<Line> out = lines.isEmpty() ? new ArrayList<>(1) : new ArrayList<>(lines);
        out.add(l);
        return out;
    }
}
