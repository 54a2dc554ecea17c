package dev.netwatcher.analysis;

import dev.netwatcher.event.ProtoShare;
import dev.netwatcher.event.ProtoShareReport;
import dev.netwatcher.stats.ProtoCount;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** -p: turns the kernel's running totals into each interval's share, busiest protocol first. */
public final class ProtoShares {
    private Map<String, ProtoCount> last = new HashMap<>();
    private long lastNanos;

    /** Starts the first interval now (totals before it, if any, are not reported). */
    public ProtoShares(List<ProtoCount> start, long nowNanos) {
        last = index(start);
        lastNanos = nowNanos;
    }

    /** The interval since the last call (or construction): protocols that moved, with their share. */
    public ProtoShareReport next(long tsNs, long nowNanos, List<ProtoCount> totals) {
        Map<String, ProtoCount> now = index(totals);
        List<ProtoCount> moved = new ArrayList<>();
        long packets = 0, bytes = 0;
        for (ProtoCount c : now.values()) {
            ProtoCount b = last.get(key(c));
            ProtoCount d = b == null ? c : new ProtoCount(c.family(), c.proto(), c.rxPackets() - b.rxPackets(),
                    c.rxBytes() - b.rxBytes(), c.txPackets() - b.txPackets(), c.txBytes() - b.txBytes());
            if (d.packets() == 0 && d.bytes() == 0) continue;
            moved.add(d);
            packets += d.packets();
            bytes += d.bytes();
        }
        moved.sort(Comparator.comparingLong(ProtoCount::packets).reversed().thenComparing(ProtoShares::key));
        List<ProtoShare> rows = new ArrayList<>();
        for (ProtoCount d : moved) {
            rows.add(new ProtoShare(d.family(), d.proto(), d.rxPackets(), d.rxBytes(), d.txPackets(), d.txBytes(),
                    packets == 0 ? 0 : 100.0 * d.packets() / packets, bytes == 0 ? 0 : 100.0 * d.bytes() / bytes));
        }
        ProtoShareReport r = new ProtoShareReport(tsNs, nowNanos - lastNanos, rows);
        last = now;
        lastNanos = nowNanos;
        return r;
    }

    private static String key(ProtoCount c) {
        return c.family() + "/" + c.proto();
    }

    private static Map<String, ProtoCount> index(List<ProtoCount> counts) {
        Map<String, ProtoCount> m = new HashMap<>();
        for (ProtoCount c : counts) m.put(key(c), c);
        return m;
    }
}
