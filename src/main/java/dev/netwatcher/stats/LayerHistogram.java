package dev.netwatcher.stats;

import dev.netwatcher.contract.NwHistShape;
/**
 * A per-layer latency histogram kept in the kernel (--metrics): packets of one
 * direction and protocol whose time in one layer fell in each bucket.
 * bucketCounts[i] counts values up to {@link #upperBoundNs(int)} (not cumulative);
 * the last bucket has no upper bound.
 */
public record LayerHistogram(String dir, String proto, String layer, long[] bucketCounts, long sumNs) {
    /** Bucket count and the first bound (bpf/packet.h enum nw_hist_shape). */
    public static final int BUCKETS = NwHistShape.NW_HIST_BUCKETS, MIN_SHIFT = NwHistShape.NW_HIST_MIN_SHIFT;

    /** Upper bound of bucket i in ns: 2^(10+i) (1.024 µs .. 17.2 s), +Inf for the last. */
    public static double upperBoundNs(int i) {
        return i >= BUCKETS - 1 ? Double.POSITIVE_INFINITY : (double) (1L << (MIN_SHIFT + i));
    }

    public long count() {
        long n = 0;
        for (long c : bucketCounts) n += c;
        return n;
    }

    /** Upper bound (ns) of the bucket holding quantile q: an over-estimate within a factor of 2. */
    public double quantileUpperNs(double q) {
        int i = Log2Quantile.quantileIndex(bucketCounts, q);
        return i < 0 ? Double.NaN : upperBoundNs(i);
    }
}
