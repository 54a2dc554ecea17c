package dev.netwatcher.ui;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.netwatcher.event.Busiest;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.LatencyAnomalyEvent;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.event.TcpInfo;
import dev.netwatcher.sink.EventSink;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * --ui: what the live page shows, kept from the events that pass by. Nothing is kept while no
 * browser is connected ({@link #watching}): accept() then returns at once. While one is, each
 * second ({@link #snapshot}) closes a window: p50/p99 per layer of each direction (HdrHistogram),
 * one column of the heat map, and the JSON the page draws. Bounded: {@link #MAX_FLOWS} flows (the
 * least recently seen go first), {@link #HEAT_COLUMNS} seconds of heat map, {@link #RECENT}
 * recent drops, retransmissions and anomalies.
 */
public final class LiveView implements EventSink {
    static final int MAX_FLOWS = 2000, HEAT_COLUMNS = 60, RECENT = 20, TOP = 10;
    private static final String[] DIRS = {"tx", "rx"};

    private volatile boolean watching;
    private final Histogram[][] window = new Histogram[2][4];
    private long[][] lastP50 = new long[2][4], lastP99 = new long[2][4];
    private final long[] lastCount = new long[2];
    private final Deque<long[]> heat = new ArrayDeque<>(); // per second: ts, then tx p50 x4, rx p50 x4
    private final Map<String, FlowStat> flows = new LinkedHashMap<>(256, 0.75f, true);
    private final Map<String, Long> drops = new TreeMap<>();
    private final Deque<String[]> recentDrops = new ArrayDeque<>(), recentRetrans = new ArrayDeque<>(),
            recentAnomalies = new ArrayDeque<>();
    private long retransmits;
    private final List<TcpConnEvent> walk = new ArrayList<>();
    private Busiest connections = Busiest.of(List.of(), 0);
    private final JsonFactory json = new JsonFactory();
    /** Connections in the page's table: the busiest, as in the overview (--top, else OverviewSink's PIPED_ROWS). */
    private final int top;

    public LiveView() {
        this(50);
    }

    public LiveView(int top) {
        this.top = top;
        for (int d = 0; d < 2; d++) for (int l = 0; l < 4; l++) window[d][l] = new Histogram(3_600_000_000_000L, 2);
    }

    /** A browser is connected (true) or the last one left (false). */
    public void watching(boolean on) {
        watching = on;
        if (!on) clear();
    }

    private static final class FlowStat {
        final long netns;
        final String proto, local, remote;
        long packets, bytes, sumNs, maxNs, timed;
        int pid;
        String comm;

        FlowStat(long netns, String proto, String local, String remote) {
            this.netns = netns;
            this.proto = proto;
            this.local = local;
            this.remote = remote;
        }
    }

    @Override
    public void accept(Event e) {
        if (!watching) return;
        synchronized (this) {
            switch (e) {
                case PacketEvent p -> packet(p);
                case DropEvent d -> {
                    drops.merge(d.reason(), 1L, Long::sum);
                    recent(recentDrops, d.reason(), endpoints(d.flow()), owner(d));
                }
                case RetransEvent r -> {
                    retransmits++;
                    recent(recentRetrans, r.caState(), endpoints(r.flow()), owner(r));
                }
                case LatencyAnomalyEvent a -> recent(recentAnomalies, a.dir() + " " + a.layer() + " " + Layers.micros(a.valueNs())
                        + " µs (baseline " + Layers.micros(a.baselineNs()) + ")", endpoints(a.flow()), owner(a));
                case TcpConnEvent c when c.reason().equals("snapshot") -> walk.add(c);
                default -> { }
            }
        }
    }

    @Override
    public synchronized void walkDone(long epochNs) {
        if (!watching) {
            walk.clear();
            return;
        }
        connections = Busiest.of(walk, top);
        walk.clear();
    }

    private void packet(PacketEvent p) {
        int d = p.dir().equals("tx") ? 0 : 1;
        Layers l = p.layers();
        long total = 0;
        for (int i = 0; i < 4 && i < l.size(); i++) {
            if (!l.has(i)) continue;
            long ns = Math.max(0, l.get(i));
            window[d][i].recordValue(Math.min(ns, window[d][i].getHighestTrackableValue()));
            total += ns;
        }
        Flow f = p.flow();
        if (f.saddr() == null) return;
        boolean tx = d == 0;
        String local = tx ? Flow.endpoint(f.saddr(), f.sport()) : Flow.endpoint(f.daddr(), f.dport());
        String remote = tx ? Flow.endpoint(f.daddr(), f.dport()) : Flow.endpoint(f.saddr(), f.sport());
        String key = p.header().netns() + " " + f.protoName() + " " + local + " " + remote;
        FlowStat s = flows.get(key);
        if (s == null) {
            if (flows.size() >= MAX_FLOWS) flows.remove(flows.keySet().iterator().next());
            s = new FlowStat(p.header().netns(), f.protoName(), local, remote);
            flows.put(key, s);
        }
        s.packets++;
        s.bytes += p.len();
        if (l.mask() != 0) {
            s.timed++;
            s.sumNs += total;
            s.maxNs = Math.max(s.maxNs, total);
        }
        if (p.header().hasTask()) {
            s.pid = p.header().pid();
            s.comm = p.header().comm();
        }
    }

    private static String endpoints(Flow f) {
        if (f.saddr() == null) return "-";
        return Flow.endpoint(f.saddr(), f.sport()) + " → " + Flow.endpoint(f.daddr(), f.dport());
    }

    private static String owner(Event e) {
        return e.header().hasTask() ? e.header().pid() + " " + e.header().comm() : "-";
    }

    private static void recent(Deque<String[]> q, String... row) {
        if (q.size() >= RECENT) q.removeLast();
        q.addFirst(row);
    }

    private synchronized void clear() {
        for (Histogram[] h : window) for (Histogram x : h) x.reset();
        lastP50 = new long[2][4];
        lastP99 = new long[2][4];
        heat.clear();
        flows.clear();
        drops.clear();
        recentDrops.clear();
        recentRetrans.clear();
        recentAnomalies.clear();
        retransmits = 0;
        walk.clear();
        connections = Busiest.of(List.of(), 0);
    }

    /**
     * Closes the current one-second window and returns the page's JSON. A direction without packets
     * in the window keeps its last numbers (marked by its packet count 0).
     */
    public synchronized String snapshot(long epochNs) {
        long[] col = new long[9];
        col[0] = epochNs;
        for (int d = 0; d < 2; d++) {
            long n = 0;
            for (int i = 0; i < 4; i++) n = Math.max(n, window[d][i].getTotalCount());
            lastCount[d] = n;
            for (int i = 0; i < 4; i++) {
                Histogram h = window[d][i];
                if (h.getTotalCount() > 0) {
                    lastP50[d][i] = h.getValueAtPercentile(50);
                    lastP99[d][i] = h.getValueAtPercentile(99);
                } else if (n > 0) {
                    lastP50[d][i] = lastP99[d][i] = 0;
                }
                col[1 + d * 4 + i] = h.getTotalCount() > 0 ? h.getValueAtPercentile(50) : -1;
                h.reset();
            }
        }
        if (heat.size() >= HEAT_COLUMNS) heat.removeFirst();
        heat.addLast(col);
        StringWriter out = new StringWriter(4096);
        try (JsonGenerator g = json.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("ts_ns", epochNs);
            g.writeObjectFieldStart("layers");
            for (int d = 0; d < 2; d++) {
                g.writeObjectFieldStart(DIRS[d]);
                g.writeNumberField("packets", lastCount[d]);
                String[] names = d == 0 ? Layers.TX : Layers.RX;
                int dominant = -1;
                for (int i = 0; i < 4; i++) if (lastP50[d][i] > 0 && (dominant < 0 || lastP50[d][i] > lastP50[d][dominant])) dominant = i;
                g.writeStringField("dominant", dominant < 0 ? null : names[dominant]);
                g.writeArrayFieldStart("stack");
                for (int i = 0; i < 4; i++) {
                    g.writeStartObject();
                    g.writeStringField("layer", names[i]);
                    g.writeNumberField("p50_ns", lastP50[d][i]);
                    g.writeNumberField("p99_ns", lastP99[d][i]);
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeArrayFieldStart("heat");
            for (long[] c : heat) {
                g.writeStartArray();
                for (long v : c) g.writeNumber(v);
                g.writeEndArray();
            }
            g.writeEndArray();
            List<FlowStat> all = new ArrayList<>(flows.values());
            flows(g, "busiest", all, s -> s.bytes);
            flows(g, "slowest", all.stream().filter(s -> s.timed > 0).toList(), s -> s.sumNs / s.timed);
            g.writeObjectFieldStart("drops");
            for (Map.Entry<String, Long> e : drops.entrySet()) g.writeNumberField(e.getKey(), e.getValue());
            g.writeEndObject();
            g.writeNumberField("retransmits", retransmits);
            rows(g, "recent_drops", recentDrops, "reason", "flow", "owner");
            rows(g, "recent_retransmits", recentRetrans, "ca_state", "flow", "owner");
            rows(g, "anomalies", recentAnomalies, "what", "flow", "owner");
            g.writeArrayFieldStart("connections");
            for (TcpConnEvent c : connections.shown()) connection(g, c);
            g.writeEndArray();
            g.writeStringField("connections_more", connections.moreLine("connections"));
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void flows(JsonGenerator g, String name, List<FlowStat> all, ToLongFunction<FlowStat> by) throws IOException {
        List<FlowStat> top = all.stream().sorted(Comparator.comparingLong(by).reversed()).limit(TOP).toList();
        g.writeArrayFieldStart(name);
        for (FlowStat s : top) {
            g.writeStartObject();
            g.writeNumberField("netns", s.netns);
            g.writeStringField("proto", s.proto);
            g.writeStringField("local", s.local);
            g.writeStringField("remote", s.remote);
            g.writeNumberField("packets", s.packets);
            g.writeNumberField("bytes", s.bytes);
            g.writeNumberField("mean_ns", s.timed == 0 ? 0 : s.sumNs / s.timed);
            g.writeNumberField("max_ns", s.maxNs);
            g.writeStringField("owner", s.comm == null ? null : s.pid + " " + s.comm);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void rows(JsonGenerator g, String name, Deque<String[]> q, String... keys) throws IOException {
        g.writeArrayFieldStart(name);
        for (String[] r : q) {
            g.writeStartObject();
            for (int i = 0; i < keys.length; i++) g.writeStringField(keys[i], r[i]);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void connection(JsonGenerator g, TcpConnEvent c) throws IOException {
        TcpInfo i = c.info();
        g.writeStartObject();
        g.writeStringField("owner", c.owner() == null ? null : c.owner().pid() + " " + c.owner().comm());
        g.writeStringField("local", Flow.endpoint(c.flow().saddr(), c.flow().sport()));
        g.writeStringField("remote", Flow.endpoint(c.flow().daddr(), c.flow().dport()));
        g.writeStringField("state", i.state());
        g.writeNumberField("srtt_us", i.srttUs());
        g.writeNumberField("bytes_sent", i.bytesSent());
        g.writeNumberField("bytes_received", i.bytesReceived());
        g.writeNumberField("retrans", i.retransTotal());
        g.writeEndObject();
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        watching(false);
    }
}
