package dev.netwatcher.event;

/**
 * Column text for the per-packet console path without {@link java.util.Formatter}: a
 * String.format per field was most of the consumer's time under -t (JFR, 2026-11-25).
 * Each method appends to the caller's builder and gives what %-Ns, %Ns and %.1f give.
 */
public final class Text {
    private Text() {
    }

    /** s left-aligned in width columns (%-Ns): never cut, as Formatter does not cut. */
    public static StringBuilder left(StringBuilder sb, String s, int width) {
        return pad(sb.append(s), width - s.length());
    }

    /** v left-aligned in width columns (%-Nd), without a String of its own. */
    public static StringBuilder left(StringBuilder sb, long v, int width) {
        return pad(sb.append(v), width - digits(v));
    }

    /** What was appended since start, padded to width columns (%-Ns of it). */
    public static StringBuilder padFrom(StringBuilder sb, int start, int width) {
        return pad(sb, width - (sb.length() - start));
    }

    /** s right-aligned in width columns (%Ns). */
    public static StringBuilder right(StringBuilder sb, CharSequence s, int width) {
        return pad(sb, width - s.length()).append(s);
    }

    /** v right-aligned in width columns (%Nd). */
    public static StringBuilder right(StringBuilder sb, long v, int width) {
        return pad(sb, width - digits(v)).append(v);
    }

    /** n spaces (none when n <= 0): one call, not one append per space (JFR: the appends' capacity checks). */
    private static StringBuilder pad(StringBuilder sb, int n) {
        return n > 0 ? sb.repeat(' ', n) : sb;
    }

    /** ns as microseconds with one decimal, rounded half up (what %.1f of ns / 1000.0 prints). */
    public static StringBuilder micros(StringBuilder sb, long ns) {
        if (ns < 0 || ns > Long.MAX_VALUE - 50) return sb.append(String.format("%.1f", ns / 1000.0));
        long tenths = (ns + 50) / 100;
        return sb.append(tenths / 10).append('.').append((char) ('0' + tenths % 10));
    }

    /** micros() right-aligned in width columns. */
    public static StringBuilder microsRight(StringBuilder sb, long ns, int width) {
        if (ns < 0 || ns > Long.MAX_VALUE - 50) return right(sb, String.format("%.1f", ns / 1000.0), width);
        long tenths = (ns + 50) / 100;
        return pad(sb, width - digits(tenths / 10) - 2).append(tenths / 10).append('.').append((char) ('0' + tenths % 10));
    }

    private static int digits(long v) {
        if (v < 0) return Long.toString(v).length();
        int n = 1;
        while (n < 19 && v >= POW10[n]) n++; // comparisons, not a division per digit (JFR: 4.5 % under -t)
        return n;
    }

    /** POW10[i] = 10^i. */
    private static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < 19; i++) POW10[i] = POW10[i - 1] * 10;
    }
}
