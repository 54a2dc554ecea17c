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
 * A flow's layer is shown once it is more than a blip in that interval: its PERSISTENT-th anomalous
 * packet, or one packet far out (at least LARGE_NS and LARGE_FACTOR times its threshold). Isolated
 * anomalies below that (an interrupt in the middle of a hook, a reader woken late: tens of µs to a few
 * ms, 0.05 % of a quiet host's packets per layer, bench/anomaly-noise.sh) stay off the console and are
 * counted. After its line, the layer's other anomalies of the interval become one line when the
 * interval ends ("4 more above 6.8 ms, worst 120 ms"). At most MAX_LINES of each kind per interval,
 * then one line for the rest. JSON, anomaly.log, metrics and the live view keep every anomaly.
 */
final class AnomalyFold {
    static final int MAX_LINES = 10, PERSISTENT = 3;
    static final long LARGE_NS = 1_000_000;
    static final double LARGE_FACTOR = 10;

    /** What to print: the event and, for a summary, the DETAIL text that replaces its own. */
    record Line(LatencyAnomalyEvent event, String detail) {}

    private record Key(long netns, Object flow, String source, String dir, String layer) {}

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

    AnomalyFold(long intervalNs, long nowNanos) {
        this.intervalNs = intervalNs;
        this.start = nowNanos;
    }

    /** Lines to print for e (none when it is held or folded), after those of an interval that has ended. */
    List<Line> offer(LatencyAnomalyEvent e, long nowNanos) {
        List<Line> out = tick(nowNanos);
        Seen s = seen.computeIfAbsent(new Key(e.header().netns(), e.flow(), e.source(), e.dir(), e.layer()), k -> new Seen());
        s.count++;
        boolean large = e.valueNs() >= LARGE_NS && e.valueNs() >= LARGE_FACTOR * e.thresholdNs();
        boolean worth = s.worth || large || s.count >= PERSISTENT;
        if (worth && !s.worth) {
            s.worth = true;
            s.folded += s.count - 1; // the ones held before it join the interval's summary
        }
        if (worth && !s.shown && direct < MAX_LINES) {
            s.shown = true;
            direct++;
            out = append(out, new Line(e, null));
        } else {
            if (worth) s.folded++;
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
        for (Seen s : seen.values()) {
            if (!s.worth) quiet += s.count;
            else if (s.folded > 0 && s.worst != null) folded.add(s);
        }
        seen.clear();
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
        return String.format("WARNING %s %s %s: %d more above %s µs in %.1f s, worst %s µs, %.1fx its %s baseline %s µs",
                w.source(), w.dir(), w.layer(), s.folded, Layers.micros(w.thresholdNs()), secs, Layers.micros(w.valueNs()),
                w.factor(), w.scope().replace('_', ' '), Layers.micros(w.baselineNs()));
    }

    private static List<Line> append(List<Line> lines, Line l) {
        List<Line> out = lines.isEmpty() ? new ArrayList<>(1) : new ArrayList<>(lines);
        out.add(l);
        return out;
    }
}
