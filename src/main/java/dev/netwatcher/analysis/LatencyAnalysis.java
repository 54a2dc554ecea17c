package dev.netwatcher.analysis;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.IcmpEvent;
import dev.netwatcher.event.LatencyAnomalyEvent;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.NetfilterEvent;
import dev.netwatcher.event.PacketEvent;

import java.util.function.Consumer;

/**
 * -L: feeds every layer time of packet, icmp and netfilter events to the anomaly
 * detector and the time-load table. Anomalies come back as events; the table is
 * handed out once per interval. Runs on the consumer thread.
 */
public final class LatencyAnalysis {
    private final AnomalyDetector detector;
    private final TimeLoad load = new TimeLoad();
    private final long intervalNs;
    private long intervalStart = System.nanoTime();
    private long anomalies;

    public LatencyAnalysis(AnomalyDetector.Config config, long intervalNs) {
        this.detector = new AnomalyDetector(config);
        this.intervalNs = intervalNs;
    }

    public void accept(Event e, Consumer<Event> out) {
        switch (e) {
            case PacketEvent p -> layers("packet", p.dir(), p.flow(), p.header(), p.layers(), p.len(),
                    p.flow().proto() == TCP ? p.seq() : -1, out);
            case NetfilterEvent n -> layers("netfilter", n.dir(), n.flow(), n.header(), n.hooks(), n.len(), -1, out);
            case IcmpEvent i -> {
                layers("icmp", "rx", i.flow(), i.header(), i.rx(), 0, i.seq(), out);
                one("icmp", "in", i.flow(), flowKey(i.header(), i.flow()), i.header(), "icmp", i.icmpNs(), null, 0, i.seq(), out);
                layers("icmp", "tx", i.flow(), i.header(), i.tx(), 0, i.seq(), out);
            }
            default -> { }
        }
    }

    /**
     * Each present layer, judged with the whole path as fallback (AnomalyDetector.observe), then the
     * path's time (the sum of the layers) learned: a layer the flow never crossed before, a qdisc added
     * under it, is judged against how long its packets took end to end.
     */
    private void layers(String source, String dir, Flow flow, EventHeader h, Layers l, int len, long seq, Consumer<Event> out) {
        String proto = flow.protoName() == null ? "-" : flow.protoName();
        Object flowKey = flowKey(h, flow);
        String path = source + "/" + dir + "/" + proto + "/" + PATH;
        long total = 0;
        for (int i = 0; i < l.size(); i++) {
            if (!l.has(i)) continue;
            one(source, dir, flow, flowKey, h, l.name(i), l.get(i), path, len, seq, out);
            total += l.get(i);
        }
        if (total > 0) detector.learn(path, flowKey, total);
    }

    private static final int TCP = 6;

    /** The fallback series of a direction: its layers' times summed. */
    static final String PATH = "path";

    private static Object flowKey(EventHeader h, Flow flow) {
        return flow.saddr() == null ? null : new FlowKey(h.netns(), flow);
    }

    private void one(String source, String dir, Flow flow, Object flowKey, EventHeader h, String layer, long ns, String fallback,
                     int len, long seq, Consumer<Event> out) {
        String proto = flow.protoName() == null ? "-" : flow.protoName();
        load.record(source, dir, proto, layer, ns);
        AnomalyDetector.Anomaly a = detector.observe(source + "/" + dir + "/" + proto + "/" + layer, flowKey, ns, fallback);
        if (a != null) {
            anomalies++;
            out.accept(new LatencyAnomalyEvent(h, flow, source, dir, layer, a.valueNs(), a.baselineNs(), a.spreadNs(),
                    a.thresholdNs(), a.factor(), a.scope(), len, seq));
        }
    }

    /** The time-load table when an interval has ended, else null. */
    public TimeLoad.Report tick(long nowNanos, long nowEpochNs) {
        if (nowNanos - intervalStart < intervalNs) return null;
        long len = nowNanos - intervalStart;
        intervalStart = nowNanos;
        return load.drain(nowEpochNs, len);
    }

    /** What is left at the end of the run. */
    public TimeLoad.Report finish(long nowNanos, long nowEpochNs) {
        long len = nowNanos - intervalStart;
        intervalStart = nowNanos;
        return load.drain(nowEpochNs, len);
    }

    public long anomalies() {
        return anomalies;
    }

    private record FlowKey(long netns, Flow flow) {}
}
