package dev.netwatcher.event;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * --rtt: RTT samples of TCP connections to one remote address, in log2 buckets of
 * microseconds: counts[i] holds samples in [2^i, 2^(i+1)) µs (bucket 0 also holds 0).
 */
public record RttHistogram(long netns, int family, InetAddress remote, long[] counts, long count, long sumUs, long minUs,
                           long maxUs) implements Report.Row {
    @Override
    public void writeFields(FieldWriter w) {
        w.string("family", family == Flow.AF_INET ? "ipv4" : "ipv6");
        w.string("remote", Flow.address(remote));
        w.number("netns", netns);
        w.number("samples", count);
        w.number("sum_us", sumUs);
        w.number("min_us", minUs);
        w.number("max_us", maxUs);
        Map<String, Long> buckets = new LinkedHashMap<>(); // lower bound of each non-empty log2 bucket -> samples
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] != 0) buckets.put(Long.toString(i == 0 ? 0 : 1L << i), counts[i]);
        }
        w.numbers("buckets_us", buckets);
    }

    @Override
    public String line() {
        return String.format("%-10d %-40s %9d %10d %10.1f %10d %10d  %s", netns, Flow.address(remote), count, minUs, meanUs(),
                quantileUpperUs(0.99), maxUs, bars(counts));
    }

    /** "[64,128):12 [128,256):3": the non-empty buckets. */
    static String bars(long[] counts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) continue;
            if (!sb.isEmpty()) sb.append(' ');
            sb.append('[').append(i == 0 ? 0 : 1L << i).append(',').append(1L << (i + 1)).append("):").append(counts[i]);
        }
        return sb.toString();
    }

    public double meanUs() {
        return count == 0 ? 0 : (double) sumUs / count;
    }

    /** Upper bound (µs, exclusive) of the bucket holding quantile q: an estimate within a factor of 2. */
    public long quantileUpperUs(double q) {
        int i = dev.netwatcher.stats.Log2Quantile.quantileIndex(counts, q);
        return i < 0 ? maxUs : Math.min(1L << (i + 1), Math.max(maxUs, 1));
    }
}
