package dev.netwatcher.metrics;

import dev.netwatcher.stats.Health;
import dev.netwatcher.stats.LayerHistogram;
import dev.netwatcher.stats.PacketCount;
import dev.netwatcher.stats.ProtoCount;
import dev.netwatcher.stats.TcpStateCount;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Metrics read at scrape time: the per-layer latency histograms and packet counts the
 * kernel keeps (--metrics makes the packet probe aggregate in BPF, so the always-on
 * mode sends no per-packet record to user space), and netwatcher's own health.
 */
public final class KernelMetrics implements MultiCollector {
    /** What the running session can tell; each supplier is called on the scrape thread. */
    public record Sources(Supplier<List<LayerHistogram>> histograms, Supplier<List<PacketCount>> counts,
                          Supplier<Health> health, Supplier<List<TcpStateCount>> connections,
                          Supplier<List<ProtoCount>> protocols) {
        public Sources(Supplier<List<LayerHistogram>> histograms, Supplier<List<PacketCount>> counts, Supplier<Health> health) {
            this(histograms, counts, health, List::of, List::of);
        }
    }

    private final Sources sources;

    public KernelMetrics(Sources sources) {
        this.sources = sources;
    }

    @Override
    public MetricSnapshots collect() {
        List<MetricSnapshot> out = new ArrayList<>();
        List<LayerHistogram> hists = sources.histograms().get();
        if (!hists.isEmpty()) out.add(layerLatency(hists));
        List<PacketCount> counts = sources.counts().get();
        if (!counts.isEmpty()) {
            CounterSnapshot.Builder packets = CounterSnapshot.builder().name("netwatcher_packets")
                    .help("Packets followed by -t/-u/-I, by direction and protocol (counted in the kernel)");
            CounterSnapshot.Builder bytes = CounterSnapshot.builder().name("netwatcher_payload_bytes")
                    .help("Transport payload bytes of those packets").unit(Unit.BYTES);
            for (PacketCount c : counts) {
                Labels l = Labels.of("dir", c.dir(), "proto", c.proto());
                packets.dataPoint(point(l, c.packets()));
                bytes.dataPoint(point(l, c.bytes()));
            }
            out.add(packets.build());
            out.add(bytes.build());
        }
        List<TcpStateCount> states = sources.connections().get();
        if (!states.isEmpty()) {
            GaugeSnapshot.Builder g = GaugeSnapshot.builder().name("netwatcher_tcp_connections")
                    .help("TCP sockets per state in the last socket walk (-x or the overview), TIME_WAIT and request sockets included");
            for (TcpStateCount s : states) {
                g.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of("state", s.state())).value(s.sockets()).build());
            }
            out.add(g.build());
        }
        List<ProtoCount> protocols = sources.protocols().get();
        if (!protocols.isEmpty()) {
            CounterSnapshot.Builder packets = CounterSnapshot.builder().name("netwatcher_ip_packets")
                    .help("-p: packets received and sent by every interface, by family and protocol (counted in the kernel)");
            CounterSnapshot.Builder bytes = CounterSnapshot.builder().name("netwatcher_ip_bytes")
                    .help("-p: their bytes from the network header on").unit(Unit.BYTES);
            for (ProtoCount c : protocols) {
                for (String dir : new String[] {"rx", "tx"}) {
                    Labels l = Labels.of("dir", dir, "family", c.family(), "proto", c.proto());
                    packets.dataPoint(point(l, dir.equals("rx") ? c.rxPackets() : c.txPackets()));
                    bytes.dataPoint(point(l, dir.equals("rx") ? c.rxBytes() : c.txBytes()));
                }
            }
            out.add(packets.build());
            out.add(bytes.build());
        }
        health(sources.health().get(), out);
        return new MetricSnapshots(out);
    }

    private static HistogramSnapshot layerLatency(List<LayerHistogram> hists) {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name("netwatcher_layer_latency_seconds")
                .help("Time packets spent in each layer of the stack (kernel histogram, power-of-2 buckets from 1 us)");
        double[] bounds = Buckets.secondsWithInf();
        for (LayerHistogram h : hists) {
            b.dataPoint(HistogramDataPointSnapshot.builder()
                    .labels(Labels.of("dir", h.dir(), "layer", h.layer(), "proto", h.proto()))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, h.bucketCounts()))
                    .sum(h.sumNs() / 1e9)
                    .build());
        }
        return b.build();
    }

    private static void health(Health h, List<MetricSnapshot> out) {
        out.add(counter("netwatcher_events_received", "Events user space received from the kernel", h.delivered()));
        out.add(counter("netwatcher_events_lost", "Events the kernel could not deliver: ring buffer full", Math.max(0, h.lost())));
        out.add(counter("netwatcher_events_missed", "Hook hits the kernel did not run the probe for (counted by a witness program on the hook)",
                Math.max(0, h.missed())));
        if (!h.counters().isEmpty()) {
            CounterSnapshot.Builder c = CounterSnapshot.builder().name("netwatcher_probe_anomalies")
                    .help("Probe-side losses: packets whose state was evicted or only partly matched");
            for (Map.Entry<String, Long> e : h.counters().entrySet()) c.dataPoint(point(Labels.of("counter", e.getKey()), e.getValue()));
            out.add(c.build());
        }
        if (!h.programs().isEmpty()) {
            CounterSnapshot.Builder runs = CounterSnapshot.builder().name("netwatcher_bpf_program_runs")
                    .help("Runs of each BPF program (kernel bpf_stats; 0 unless --bpf-stats)");
            CounterSnapshot.Builder time = CounterSnapshot.builder().name("netwatcher_bpf_program_run_seconds")
                    .help("Time spent in each BPF program (kernel bpf_stats; 0 unless --bpf-stats)").unit(Unit.SECONDS);
            CounterSnapshot.Builder misses = CounterSnapshot.builder().name("netwatcher_bpf_program_recursion_misses")
                    .help("Runs the kernel skipped because the program was already running on that CPU");
            for (Health.ProgramRun p : h.programs()) {
                Labels l = Labels.of("program", p.program());
                runs.dataPoint(point(l, p.runs()));
                time.dataPoint(point(l, p.runNs() / 1e9));
                misses.dataPoint(point(l, p.recursionMisses()));
            }
            out.add(runs.build());
            out.add(time.build());
            out.add(misses.build());
        }
    }

    private static CounterSnapshot counter(String name, String help, long value) {
        return CounterSnapshot.builder().name(name).help(help).dataPoint(point(Labels.EMPTY, value)).build();
    }

    private static CounterDataPointSnapshot point(Labels labels, double value) {
        return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }
}
