package dev.netwatcher.stats;

/** Quantiles of histograms with fixed buckets (the kernel's log2 histograms). */
public final class Log2Quantile {
    private Log2Quantile() {}

    /** Index of the bucket holding quantile q of counts, or -1 when they are all 0. */
    public static int quantileIndex(long[] counts, double q) {
        long n = 0;
        for (long c : counts) n += c;
        if (n == 0) return -1;
        long rank = Math.max(1, (long) Math.ceil(q * n)), seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) return i;
        }
        return counts.length - 1;
    }
}
