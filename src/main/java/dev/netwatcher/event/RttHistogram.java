package dev.netwatcher.event;

import java.net.InetAddress;

/**
 * --rtt: RTT samples of TCP connections to one remote address, in log2 buckets of
 * microseconds: counts[i] holds samples in [2^i, 2^(i+1)) µs (bucket 0 also holds 0).
 */
public record RttHistogram(long netns, int family, InetAddress remote, long[] counts, long count, long sumUs, long minUs,
                           long maxUs) {
    public double meanUs() {
        return count == 0 ? 0 : (double) sumUs / count;
    }

    /** Upper bound (µs, exclusive) of the bucket holding quantile q: an estimate within a factor of 2. */
    public long quantileUpperUs(double q) {
        int i = dev.netwatcher.stats.Log2Quantile.quantileIndex(counts, q);
        return i < 0 ? maxUs : Math.min(1L << (i + 1), Math.max(maxUs, 1));
    }
}
