package dev.netwatcher.metrics;

import dev.netwatcher.stats.LayerHistogram;

/** Histogram bucket bounds in seconds, shared by kernel and user-space histograms: 2^10 ns (1 µs) .. 2^34 ns (17 s). */
final class Buckets {
    private Buckets() {}

    /** Finite upper bounds in seconds (the +Inf bucket is implied). */
    static double[] seconds() {
        double[] b = new double[LayerHistogram.BUCKETS - 1];
        for (int i = 0; i < b.length; i++) b[i] = LayerHistogram.upperBoundNs(i) / 1e9;
        return b;
    }

    /** The same with +Inf last, for snapshots built from kernel counts. */
    static double[] secondsWithInf() {
        double[] b = new double[LayerHistogram.BUCKETS];
        for (int i = 0; i < b.length; i++) b[i] = LayerHistogram.upperBoundNs(i) / 1e9;
        return b;
    }
}
