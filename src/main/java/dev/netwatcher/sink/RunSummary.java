package dev.netwatcher.sink;

import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.stats.LayerHistogram;
import org.HdrHistogram.Histogram;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The end-of-run summary: per-layer latency percentiles, top drop reasons, top
 * retransmitting flows, HTTP/DNS exchanges (latency percentiles, answers), closed connections. Percentiles come from the packet events when they reached
 * user space (exact to 2 digits), otherwise from the kernel's histograms (--metrics
 * without event output: each value is its power-of-2 bucket's upper bound, marked ≤).
 */
public final class RunSummary implements EventSink {
    /** Flows remembered for the retransmission ranking; more are counted in "other flows". */
    static final int MAX_FLOWS = 10_000;
    private static final int TOP = 5;

    private final Map<String, Histogram> layers = new TreeMap<>();
    /** The histograms of layers by [dir tx, rx][TCP, UDP, ICMP][layer index]: the per-packet path. */
    private final Histogram[] packetLayers = new Histogram[2 * 3 * 4];
    /** --sample N: each packet record stands for N packets. */
    private int sample = 1;

    /** --sample N: packet counts are scaled by N (the percentiles do not change). */
    public RunSummary sampling(int n) {
        sample = Math.max(1, n);
        return this;
    }
    private final Map<String, Long> dropReasons = new HashMap<>();
    /** --stack: reason -> the first STACK_FRAMES frames of its drops' stacks -> drops (bounded like the flows). */
    private final Map<String, Map<String, Long>> dropStacks = new HashMap<>();
    private static final int STACK_FRAMES = 6, STACKS_SHOWN = 3;
    private final Map<String, Long> retransFlows = new HashMap<>();
    private long retransOther;
    /** "http client" / "dns server" -> latency (ns) and answers by status class or rcode. */
    private final Map<String, Histogram> exchangeLatency = new TreeMap<>();
    private final Map<String, Map<String, Long>> exchangeAnswers = new TreeMap<>();
    private final Map<String, Long> closedByState = new HashMap<>(), closedByError = new HashMap<>();

    @Override
    public void accept(Event event) {
        switch (event) {
            case PacketEvent p -> {
                Layers l = p.layers();
                int proto = p.flow().proto();
                int base = (p.dir().equals("tx") ? 0 : 3) + (proto == 6 ? 0 : proto == 17 ? 1 : 2);
                for (int i = 0; i < l.size() && i < 4; i++) {
                    if (!l.has(i)) continue;
                    // per packet: an array slot, not a string key built and looked up in the TreeMap
                    Histogram h = packetLayers[base * 4 + i];
                    if (h == null) {
                        h = layers.computeIfAbsent(p.dir() + " " + p.flow().protoName() + " " + l.name(i),
                                k -> new Histogram(1, 3_600_000_000_000L, 2));
                        packetLayers[base * 4 + i] = h;
                    }
                    h.recordValueWithCount(Math.max(1, Math.min(l.get(i), h.getHighestTrackableValue())), sample);
                }
            }
            case DropEvent d -> {
                dropReasons.merge(d.reason(), 1L, Long::sum);
                if (d.stack() != null && !d.stack().isEmpty()) {
                    Map<String, Long> stacks = dropStacks.computeIfAbsent(d.reason(), k -> new HashMap<>());
                    String key = String.join(" < ", d.stack().subList(0, Math.min(STACK_FRAMES, d.stack().size())));
                    if (stacks.containsKey(key) || stacks.size() < MAX_FLOWS) stacks.merge(key, 1L, Long::sum);
                }
            }
            case RetransEvent r -> {
                String key = Flow.endpoint(r.flow().saddr(), r.flow().sport()) + " > "
                        + Flow.endpoint(r.flow().daddr(), r.flow().dport());
                if (retransFlows.containsKey(key) || retransFlows.size() < MAX_FLOWS) retransFlows.merge(key, 1L, Long::sum);
                else retransOther++;
            }
            case dev.netwatcher.event.HttpEvent h -> exchange("http " + h.side(), h.latencyNs(),
                    h.status() >= 100 && h.status() <= 599 ? (h.status() / 100) + "xx" : "other");
            case dev.netwatcher.event.DnsEvent d -> exchange("dns " + d.side(), d.rcode().equals("TIMEOUT") ? -1 : d.latencyNs(), d.rcode());
            case dev.netwatcher.event.MysqlEvent m -> exchange("mysql " + m.side(), m.latencyNs(),
                    m.outcome().equals("error") ? "ERR " + m.errorCode() : m.outcome());
            case dev.netwatcher.event.RedisEvent r -> exchange("redis " + r.side(), r.latencyNs(), r.reply());
            case dev.netwatcher.event.TlsEvent t -> exchange("tls " + t.side(), t.handshakeNs(), t.version());
            case dev.netwatcher.event.TcpCloseEvent c -> {
                closedByState.merge(c.lastState(), 1L, Long::sum);
                if (c.info().skErr() != 0) closedByError.merge(dev.netwatcher.event.Errnos.name(c.info().skErr()), 1L, Long::sum);
            }
            default -> { }
        }
    }

    /** latencyNs < 0: no answer (only counted). */
    private void exchange(String key, long latencyNs, String answer) {
        Histogram h = exchangeLatency.computeIfAbsent(key, k -> new Histogram(1, 3_600_000_000_000L, 2));
        if (latencyNs >= 0) h.recordValue(Math.max(1, Math.min(latencyNs, h.getHighestTrackableValue())));
        exchangeAnswers.computeIfAbsent(key, k -> new TreeMap<>()).merge(answer, 1L, Long::sum);
    }

    /** True when there is anything to print. */
    public boolean isEmpty(List<LayerHistogram> kernel) {
        return layers.isEmpty() && kernel.isEmpty() && dropReasons.isEmpty() && retransFlows.isEmpty()
                && exchangeAnswers.isEmpty() && closedByState.isEmpty();
    }

    /** Writes the summary; kernel is used for latency only when no packet event arrived. */
    public void print(PrintWriter out, List<LayerHistogram> kernel) {
        if (isEmpty(kernel)) return;
        out.println("netwatcher: summary" + (sample > 1 ? " (1 packet in " + sample
                + " followed: packet counts are estimates, each sampled packet counted " + sample + " times)" : ""));
        if (!layers.isEmpty()) {
            out.printf("  %-24s %10s %10s %10s %10s %10s%n", "LAYER (dir proto layer)", "PACKETS", "P50_US", "P90_US", "P99_US", "MAX_US");
            for (Map.Entry<String, Histogram> e : layers.entrySet()) {
                Histogram h = e.getValue();
                out.printf("  %-24s %10d %10s %10s %10s %10s%n", e.getKey(), h.getTotalCount(), us(h.getValueAtPercentile(50)),
                        us(h.getValueAtPercentile(90)), us(h.getValueAtPercentile(99)), us(h.getMaxValue()));
            }
        } else if (!kernel.isEmpty()) {
            out.printf("  %-24s %10s %10s %10s %10s   (kernel histograms: bucket upper bounds)%n",
                    "LAYER (dir proto layer)", "PACKETS", "P50_US", "P90_US", "P99_US");
            for (LayerHistogram h : kernel) {
                out.printf("  %-24s %10d %10s %10s %10s%n", h.dir() + " " + h.proto() + " " + h.layer(), h.count(),
                        le(h.quantileUpperNs(0.5)), le(h.quantileUpperNs(0.9)), le(h.quantileUpperNs(0.99)));
            }
        }
        if (!dropReasons.isEmpty()) {
            out.println("  top drop reasons:");
            top(dropReasons).forEach(e -> {
                out.printf("    %8d  %s%n", e.getValue(), e.getKey());
                Map<String, Long> stacks = dropStacks.get(e.getKey());
                if (stacks != null) {
                    top(stacks).stream().limit(STACKS_SHOWN).forEach(s -> out.printf("    %8s  %8d  %s%n", "", s.getValue(), s.getKey()));
                }
            });
        }
        if (!retransFlows.isEmpty()) {
            out.println("  top retransmitting flows:");
            top(retransFlows).forEach(e -> out.printf("    %8d  %s%n", e.getValue(), e.getKey()));
            if (retransOther > 0) out.printf("    %8d  (other flows)%n", retransOther);
        }
        if (!exchangeAnswers.isEmpty()) {
            out.printf("  %-24s %10s %10s %10s %10s  %s%n", "EXCHANGES (proto side)", "COUNT", "P50_MS", "P99_MS", "MAX_MS", "ANSWERS");
            for (Map.Entry<String, Map<String, Long>> e : exchangeAnswers.entrySet()) {
                Histogram h = exchangeLatency.get(e.getKey());
                long n = e.getValue().values().stream().mapToLong(Long::longValue).sum();
                StringBuilder answers = new StringBuilder();
                e.getValue().forEach((k, v) -> answers.append(answers.isEmpty() ? "" : " ").append(k).append(':').append(v));
                out.printf("  %-24s %10d %10s %10s %10s  %s%n", e.getKey(), n, ms(h, 50), ms(h, 99),
                        h.getTotalCount() == 0 ? "-" : String.format("%.3f", h.getMaxValue() / 1e6), answers);
            }
        }
        if (!closedByState.isEmpty()) {
            long n = closedByState.values().stream().mapToLong(Long::longValue).sum();
            StringBuilder sb = new StringBuilder("  closed connections: " + n + " (last state:");
            top(closedByState).forEach(e -> sb.append(' ').append(e.getKey()).append(' ').append(e.getValue()).append(','));
            sb.setLength(sb.length() - 1);
            sb.append(')');
            if (!closedByError.isEmpty()) {
                sb.append(", with an error:");
                top(closedByError).forEach(e -> sb.append(' ').append(e.getKey()).append(' ').append(e.getValue()).append(','));
                sb.setLength(sb.length() - 1);
            }
            out.println(sb);
        }
        out.flush();
    }

    private static String ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? "-" : String.format("%.3f", h.getValueAtPercentile(percentile) / 1e6);
    }

    private static List<Map.Entry<String, Long>> top(Map<String, Long> m) {
        List<Map.Entry<String, Long>> l = new ArrayList<>(m.entrySet());
        l.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        return l.subList(0, Math.min(TOP, l.size()));
    }

    private static String us(long ns) {
        return String.format("%.1f", ns / 1000.0);
    }

    private static String le(double ns) {
        return Double.isInfinite(ns) ? ">17s" : "≤" + String.format("%.1f", ns / 1000.0);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
}
