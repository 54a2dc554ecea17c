package dev.netwatcher.analysis;

/**
 * How high a layer's time goes when nothing is wrong: its 99.9th percentile over the last
 * 5,000-10,000 samples; with fewer than 3,000 samples the 3rd largest, so that one or two early
 * outliers do not set the level. Layer times have a long right
 * tail on a healthy host (a reader's wake-up, an interrupt in the middle of a hook), and a fixed
 * floor either lets that tail alarm or hides real delays of fast layers; this follows each layer's
 * own tail. Log-scale buckets, 4 per power of two (a value is known within 19 %); two halves, the
 * older dropped when the newer is full, so the level follows a host whose noise changes.
 */
final class NoiseLevel {
    private static final int SUB = 4, BUCKETS = 64 * SUB, HALF = 5_000;
    private static final double TAIL = 0.001;

    private long[] current = new long[BUCKETS], previous = new long[BUCKETS];
    private int inCurrent, inPrevious;

    void add(long ns) {
        if (inCurrent == HALF) {
            long[] t = previous;
            previous = current;
            current = t;
            java.util.Arrays.fill(current, 0);
            inPrevious = inCurrent;
            inCurrent = 0;
        }
        current[bucket(ns)]++;
        inCurrent++;
    }

    long samples() {
        return inCurrent + inPrevious;
    }

    /** The upper bound of the bucket holding the 99.9th percentile (see the class comment), 0 when empty. */
    long level() {
        long n = samples();
        if (n == 0) return 0;
        long rank = Math.max((long) Math.floor(n * TAIL), Math.min(3, n)), seen = 0;
        for (int b = BUCKETS - 1; b >= 0; b--) {
            seen += current[b] + previous[b];
            if (seen >= rank) return upper(b);
        }
        return upper(0);
    }

    /** Bucket of ns: 4 per power of two above 4 ns, values up to 3 ns each in their own. */
    static int bucket(long ns) {
        if (ns < SUB) return (int) Math.max(0, ns);
        int exp = 63 - Long.numberOfLeadingZeros(ns); // ns in [2^exp, 2^(exp+1))
        int sub = (int) ((ns >>> (exp - 2)) & (SUB - 1));
        return Math.min(BUCKETS - 1, (exp - 1) * SUB + sub);
    }

    /** The largest value of bucket b. */
    static long upper(int b) {
        if (b < SUB) return b;
        int exp = b / SUB + 1, sub = b % SUB;
        if (exp >= 62) return Long.MAX_VALUE;
        return (1L << exp) + ((long) (sub + 1) << (exp - 2)) - 1;
    }
}
