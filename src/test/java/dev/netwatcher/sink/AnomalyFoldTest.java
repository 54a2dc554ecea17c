package dev.netwatcher.sink;

import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.LatencyAnomalyEvent;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What -L puts on the console for a flow of 500 packets a second, one layer, 1-s intervals: blips stay
 * off it (fewer than PERSISTENT in an interval, or fewer than SHARE of the flow's packets), a lasting
 * delay is one line per interval, a packet far out is shown as it comes. AnomalyIT checks on a real host
 * that what the console says is true; this checks, without a host's noise, what it leaves out.
 */
class AnomalyFoldTest {
    private static final long S = 1_000_000_000L, MS = 1_000_000L;
    private static final Flow FLOW;

    static {
        try {
            FLOW = new Flow(Flow.AF_INET, 17, InetAddress.getByName("198.18.0.1"), 40500, InetAddress.getByName("198.18.0.2"), 7500);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static LatencyAnomalyEvent anomaly(long ts, long valueNs, long thresholdNs) {
        return new LatencyAnomalyEvent(new EventHeader(ts, 7, 1, 1, "python3"), FLOW, "packet", "rx", "socket", valueNs,
                50_000, 10_000, thresholdNs, valueNs / 50_000.0, "flow", 100, 0);
    }

    /**
     * 10 s of a flow at 500 packets/s; anomalous(i) says which packet is late (and by how much, ns); returns the
     * lines the fold printed, the run's end included.
     */
    private static List<AnomalyFold.Line> run(java.util.function.LongUnaryOperator anomalous) {
        AnomalyFold fold = new AnomalyFold(S, 0);
        List<AnomalyFold.Line> out = new ArrayList<>();
        for (long i = 0; i < 5000; i++) {
            long ts = i * 2 * MS;
            fold.record(7, FLOW, "packet", "rx");
            long v = anomalous.applyAsLong(i);
            if (v > 0) out.addAll(fold.offer(anomaly(ts, v, MS), ts));
            else out.addAll(fold.tick(ts));
        }
        out.addAll(fold.end(10 * S));
        return out;
    }

    @Test
    void blipsStayOffTheConsole() {
        // two late reads of 3-8 ms in every second: fewer than PERSISTENT
        assertEquals(List.of(), run(i -> i % 500 == 17 || i % 500 == 300 ? 3 * MS + (i % 5) * MS : 0));
        // nine in every second, 1.8 % of the flow's 500: fewer than SHARE (a reader woken late again and again on a busy guest)
        assertEquals(List.of(), run(i -> i % 500 < 90 && i % 10 == 0 ? 4 * MS : 0));
    }

    @Test
    void aLastingDelayIsOneLinePerInterval() {
        // every packet 5 ms late (a netfilter chain, a queue): one summary line a second, not 500
        List<AnomalyFold.Line> lines = run(i -> 5 * MS);
        assertTrue(lines.size() >= 9 && lines.size() <= 11, lines.size() + " lines");
        assertTrue(lines.stream().allMatch(l -> l.detail() != null && l.detail().contains("packets above")), lines.toString());
    }

    @Test
    void aPacketFarOutIsShownAsItComes() {
        // one read 50 ms late (50x its threshold): shown alone, at once
        List<AnomalyFold.Line> lines = run(i -> i == 1234 ? 50 * MS : 0);
        assertEquals(1, lines.size(), lines.toString());
        assertNull(lines.get(0).detail());
        assertEquals(50 * MS, lines.get(0).event().valueNs());
    }
}
