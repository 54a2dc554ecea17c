package dev.netwatcher.analysis;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides whether a layer time is abnormal. Each series (a layer of a direction
 * and protocol, and the same layer of one flow) has an EWMA baseline of mean and
 * standard deviation; each layer series also has its noise level (NoiseLevel: its
 * 99.9th percentile over the last thousands of samples). A sample is judged against its
 * flow's baseline once that has seen {@code warmup} samples, else against the layer's,
 * else (a layer the flow never crossed before: a qdisc added under a running flow) against
 * the whole path's time of the flow or of its direction (the fallback series), else not at all.
 * It is abnormal when it exceeds all of: the floor, mean + sigmas * sd, factor * mean, and
 * noiseFactor * the judging layer's noise level (at most NOISE_CAP * the judging mean). An
 * absolute threshold, when set, flags any sample above it too. Samples are learned clipped at the threshold (during warm-up at 10x the
 * mean so far), an abnormal one into the mean only (Baseline.add), so one outlier does not drag
 * the baseline up while a lasting shift still becomes normal within tens of samples.
 */
public final class AnomalyDetector {
    public record Config(double alpha, int warmup, double sigmas, double factor, long floorNs, long absoluteNs,
                         int maxFlows, double noiseFactor) {
        public Config(double alpha, int warmup, double sigmas, double factor, long floorNs, long absoluteNs, int maxFlows) {
            this(alpha, warmup, sigmas, factor, floorNs, absoluteNs, maxFlows, NOISE_FACTOR);
        }

        public static final Config DEFAULT = new Config(0.05, 50, 6.0, 3.0, 10_000, 0, 4096);
    }

    /**
     * How far above a layer's own 99.9th percentile a sample must be. 4: on 10,000 steady datagrams
     * 22 packets had a layer above 4x its p99.9 (41 above 2x, 5 above 10x; bench/anomaly-noise.sh),
     * while what users need told (a qdisc queueing, a stalled reader, a netfilter chain of 3,000
     * rules: 44 µs in a hook whose p99.9 is 2 µs) is tens to thousands of times the usual time.
     */
    public static final double NOISE_FACTOR = 4.0;

    /** The verdict on one abnormal sample. */
    public record Anomaly(long valueNs, long baselineNs, long spreadNs, long thresholdNs, double factor, String scope) {}

    private static final int WARMUP_CLIP_AFTER = 5;
    private static final double WARMUP_CLIP_FACTOR = 10;

    private final Config config;
    private final Map<String, Series> layers = new HashMap<>();
    private final Map<Object, Baseline> flows;

    /** A layer series across flows: its baseline and its noise level. */
    private static final class Series {
        final Baseline baseline = new Baseline();
        final NoiseLevel noise = new NoiseLevel();
    }

    public AnomalyDetector(Config config) {
        this.config = config;
        this.flows = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Baseline> eldest) {
                return size() > config.maxFlows();
            }
        };
    }

    /**
     * Judges a sample, then learns it. layerKey names the series (e.g. "packet/tx/tcp/qdisc");
     * flowKey identifies the flow within it (null: no per-flow baseline). Returns null when normal.
     */
    public Anomaly observe(String layerKey, Object flowKey, long ns) {
        return observe(layerKey, flowKey, ns, null);
    }

    /**
     * As observe(layerKey, flowKey, ns), with fallbackKey the series that judges when layerKey has no
     * baseline yet, for this flow nor across flows (see the class comment); it is only read here, the
     * caller feeds it with its own samples.
     */
    public Anomaly observe(String layerKey, Object flowKey, long ns, String fallbackKey) {
        Series global = layers.computeIfAbsent(layerKey, k -> new Series());
        Baseline flow = flowKey == null ? null : flows.computeIfAbsent(new FlowSeries(layerKey, flowKey), k -> new Baseline());
        Baseline judge = null;
        Series noise = global;
        String scope = null;
        if (flow != null && flow.samples() >= config.warmup()) {
            judge = flow;
            scope = "flow";
        } else if (global.baseline.samples() >= config.warmup()) {
            judge = global.baseline;
            scope = "layer";
        } else if (fallbackKey != null) {
            Baseline pathOfFlow = flowKey == null ? null : flows.get(new FlowSeries(fallbackKey, flowKey));
            Series path = layers.get(fallbackKey);
            if (pathOfFlow != null && pathOfFlow.samples() >= config.warmup() && path != null) {
                judge = pathOfFlow;
                noise = path;
                scope = "flow_path";
            } else if (path != null && path.baseline.samples() >= config.warmup()) {
                judge = path.baseline;
                noise = path;
                scope = "path";
            }
        }
        Anomaly result = null;
        double threshold = Double.MAX_VALUE;
        if (judge != null) {
            threshold = threshold(judge, noise.noise);
        }
        boolean overAbsolute = config.absoluteNs() > 0 && ns > config.absoluteNs();
        if (ns > threshold || overAbsolute) {
            Baseline ref = judge != null ? judge : global.baseline;
            long t = judge != null ? (long) threshold : config.absoluteNs();
            if (overAbsolute && judge != null) t = Math.min(t, config.absoluteNs());
            double mean = ref.mean();
            result = new Anomaly(ns, (long) mean, (long) ref.sd(), t, mean > 0 ? ns / mean : Double.POSITIVE_INFINITY,
                    judge == null ? "absolute" : scope);
        }
        if (judge == null) {
            // this series is still warming up: keep a slow packet from inflating the baseline it will be judged by
            threshold = warmupClip(global.baseline);
        }
        double learn = Math.min(ns, threshold);
        boolean normal = result == null;
        global.baseline.add(learn, config.alpha(), normal);
        if (normal) global.noise.add((long) learn); // the noise is what normal packets do: a burst must not hide its own tail
        if (flow != null) flow.add(learn, config.alpha(), normal);
        return result;
    }

    /** Above all of: the floor, the noise floor, mean + sigmas * sd and factor * mean of judge (see the class comment). */
    private double threshold(Baseline judge, NoiseLevel noise) {
        return Math.max(Math.max(config.floorNs(), noiseFloor(noise, judge)),
                Math.max(judge.mean() + config.sigmas() * judge.sd(), config.factor() * judge.mean()));
    }

    /** Where a series still warming up clips what it learns: 10x its mean so far (nothing before 5 samples). */
    private double warmupClip(Baseline b) {
        return b.samples() >= WARMUP_CLIP_AFTER ? Math.max(config.floorNs(), WARMUP_CLIP_FACTOR * b.mean()) : Double.MAX_VALUE;
    }

    /**
     * The layer's noise level times noiseFactor, but never above NOISE_CAP times the judging baseline's
     * mean of normal samples: a layer whose tail across flows is tens of µs (interrupts in a netfilter
     * hook) must still see a chain of 3,000 rules that adds 45 µs to every packet of a flow whose hook
     * took 1-3 µs (AnomalyIT: a run where the layer's level was 12 µs missed all 5 packets without the
     * cap). Not the mean itself: each abnormal packet moves it toward its clipped value, and with a
     * level of 12-16 µs the cap had risen above the next packets after two of them (a CI run flagged 2
     * of the 5); a lasting shift still becomes normal through the other terms (factor * mean).
     */
    private double noiseFloor(NoiseLevel level, Baseline judge) {
        return Math.min(config.noiseFactor() * level.level(), NOISE_CAP * judge.normalMean());
    }

    /** See noiseFloor. */
    public static final double NOISE_CAP = 20;

    /** Learns a sample of a series that is never judged itself (a fallback series: the whole path's time). */
    public void learn(String key, Object flowKey, long ns) {
        Series s = layers.computeIfAbsent(key, k -> new Series());
        double clip = s.baseline.samples() >= config.warmup() ? threshold(s.baseline, s.noise) : warmupClip(s.baseline);
        double x = Math.min(ns, clip);
        boolean normal = ns <= clip;
        s.baseline.add(x, config.alpha(), normal);
        if (normal) s.noise.add((long) x);
        if (flowKey != null) flows.computeIfAbsent(new FlowSeries(key, flowKey), k -> new Baseline()).add(x, config.alpha(), normal);
    }

    int trackedFlows() {
        return flows.size();
    }

    private record FlowSeries(String layer, Object flow) {}
}
