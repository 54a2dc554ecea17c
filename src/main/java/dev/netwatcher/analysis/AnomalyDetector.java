package dev.netwatcher.analysis;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides whether a layer time is abnormal. Each series (a layer of a direction
 * and protocol, and the same layer of one flow) has an EWMA baseline of mean and
 * standard deviation. A sample is judged against its flow's baseline once that has
 * seen {@code warmup} samples, else against the layer's baseline, else not at all.
 * It is abnormal when it exceeds all of: the floor, mean + sigmas * sd, and
 * factor * mean. An absolute threshold, when set, flags any sample above it too.
 * Samples are learned clipped at the threshold (during warm-up at 10x the mean so
 * far), so one outlier does not drag the baseline up while a lasting shift still
 * moves it within tens of samples.
 */
public final class AnomalyDetector {
    public record Config(double alpha, int warmup, double sigmas, double factor, long floorNs, long absoluteNs,
                         int maxFlows) {
        public static final Config DEFAULT = new Config(0.05, 50, 6.0, 3.0, 50_000, 0, 4096);
    }

    /** The verdict on one abnormal sample. */
    public record Anomaly(long valueNs, long baselineNs, long spreadNs, long thresholdNs, double factor, String scope) {}

    private static final int WARMUP_CLIP_AFTER = 5;
    private static final double WARMUP_CLIP_FACTOR = 10;

    private final Config config;
    private final Map<String, Baseline> layers = new HashMap<>();
    private final Map<Object, Baseline> flows;

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
        Baseline global = layers.computeIfAbsent(layerKey, k -> new Baseline());
        Baseline flow = flowKey == null ? null : flows.computeIfAbsent(new FlowSeries(layerKey, flowKey), k -> new Baseline());
        Baseline judge = flow != null && flow.samples() >= config.warmup() ? flow
                : global.samples() >= config.warmup() ? global : null;
        Anomaly result = null;
        double threshold = Double.MAX_VALUE;
        if (judge != null) {
            threshold = Math.max(config.floorNs(), Math.max(judge.mean() + config.sigmas() * judge.sd(),
                    config.factor() * judge.mean()));
        }
        boolean overAbsolute = config.absoluteNs() > 0 && ns > config.absoluteNs();
        if (ns > threshold || overAbsolute) {
            Baseline ref = judge != null ? judge : global;
            long t = judge != null ? (long) threshold : config.absoluteNs();
            if (overAbsolute && judge != null) t = Math.min(t, config.absoluteNs());
            double mean = ref.mean();
            result = new Anomaly(ns, (long) mean, (long) ref.sd(), t, mean > 0 ? ns / mean : Double.POSITIVE_INFINITY,
                    judge == null ? "absolute" : judge == flow ? "flow" : "layer");
        }
        if (judge == null && global.samples() >= WARMUP_CLIP_AFTER) {
            // still warming up: keep a slow packet from inflating the baseline it will be judged by
            threshold = Math.max(config.floorNs(), WARMUP_CLIP_FACTOR * global.mean());
        }
        double learn = Math.min(ns, threshold);
        global.add(learn, config.alpha());
        if (flow != null) flow.add(learn, config.alpha());
        return result;
    }

    int trackedFlows() {
        return flows.size();
    }

    private record FlowSeries(String layer, Object flow) {}
}
