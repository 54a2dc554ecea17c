package dev.netwatcher.event;

/**
 * -L: a packet far outside the baseline of one of its layers. scope says which
 * baseline judged it: "flow" (this connection's own), "layer" (all flows of
 * this layer, direction and protocol), "flow_path" or "path" (the whole path's time
 * of the flow or of the direction, for a layer that had no baseline yet), "absolute"
 * (--latency-threshold-us alone). factor = valueNs / baselineNs. len and seq name the
 * packet as its own record does (seq: TCP's sequence number or ICMP's; -1 for none).
 */
public record LatencyAnomalyEvent(EventHeader header, Flow flow, String source, String dir, String layer, long valueNs,
                                  long baselineNs, long spreadNs, long thresholdNs, double factor, String scope,
                                  int len, long seq)
        implements Event {
    @Override
    public String type() {
        return "latency_anomaly";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("source", source);
        out.string("dir", dir);
        out.string("layer", layer);
        out.number("value_ns", valueNs);
        out.number("baseline_ns", baselineNs);
        out.number("spread_ns", spreadNs);
        out.number("threshold_ns", thresholdNs);
        out.string("factor", String.format("%.1f", factor));
        out.string("scope", scope);
        if (len > 0) out.number("len", len);
        if (seq >= 0) out.number("seq", seq);
    }

    @Override
    public String detail() {
        return String.format("WARNING %s %s %s: %s µs, %.1fx its %s baseline %s µs (±%s, threshold %s)", source, dir, layer,
                Layers.micros(valueNs), factor, scope.replace('_', ' '), Layers.micros(baselineNs), Layers.micros(spreadNs),
                Layers.micros(thresholdNs));
    }
}
