package dev.netwatcher.sink;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;

/**
 * JSON Lines written straight into a byte array: the event path's encoder.
 *
 * <p>Why not Jackson's generator, which the rest of netwatcher uses: at -t -u --json rates (300,000
 * records a second and more) the encoder is most of the consumer's cost. {@code bench/EventPath.java}
 * measured decoding a packet record at 0.04 µs and writing it with Jackson's streaming generator at
 * 0.44 µs; a JFR profile in place put Jackson's per-value state check ({@code _verifyValueWrite}) alone
 * at 19 % of the samples. This writer knows the shape it writes (objects of keys the caller
 * pre-encodes, numbers, strings, one level of nesting and arrays of strings), keeps the comma state in
 * a bit per level, and caches the encoded bytes of strings that recur as the same object (keys,
 * protocol names, comm and cgroup paths, which the decoder already interns).
 *
 * <p>Output is RFC 8259 JSON in UTF-8: {@code "} and {@code \} escaped, control characters as
 * {@code \n \r \t \b \f} or {@code \}{@code u00XX}, other characters as UTF-8 (a lone surrogate as U+FFFD,
 * which Java's own encoder writes as {@code ?}). Not thread-safe: one consumer thread writes.
 */
final class JsonLineWriter {
    private static final int CAPACITY = 1 << 16;
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MIN_LONG = Long.toString(Long.MIN_VALUE).getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;
    private byte[] buf = new byte[CAPACITY];
    private int pos;
    /** Bit d set: the object or array at depth d already has a member, so the next one needs a comma. */
    private long hasMember;
    private int depth;

    /** Keys ("name":) and values ("text") of strings that recur as the same object, encoded once. */
    private final IdentityHashMap<String, byte[]> keys = new IdentityHashMap<>();
    private static final int RECENT = 256;
    private final String[] recentKey = new String[RECENT], recentValue = new String[RECENT];
    private final byte[][] recentKeyBytes = new byte[RECENT][], recentValueBytes = new byte[RECENT][];

    JsonLineWriter(OutputStream out) {
        this.out = out;
    }

    // ------------------------------------------------------------------ structure

    void startObject() {
        open('{');
    }

    void endObject() {
        close('}');
    }

    void startArray() {
        open('[');
    }

    void endArray() {
        close(']');
    }

    /** Ends a top-level value: a newline (JSON Lines). */
    void endLine() {
        ensure(1);
        buf[pos++] = '\n';
        depth = 0;
        afterKey = false;
    }

    private void open(char bracket) {
        value();
        ensure(1);
        buf[pos++] = (byte) bracket;
        if (++depth >= 63) throw new IllegalStateException("JSON nested too deep");
        hasMember &= ~(1L << depth);
    }

    private void close(char bracket) {
        ensure(1);
        buf[pos++] = (byte) bracket;
        depth--;
    }

    /** A comma before every member of the current object or array but its first. */
    private void member() {
        long bit = 1L << depth;
        if ((hasMember & bit) != 0) {
            ensure(1);
            buf[pos++] = ',';
        }
        hasMember |= bit;
    }

    /** Set by key(): the next value is that member's value. */
    private boolean afterKey;

    /** Before a value: a member of its own in an array (comma), none after a key or at the top level. */
    private void value() {
        if (afterKey) afterKey = false;
        else if (depth > 0) member();
    }

    // ------------------------------------------------------------------ members

    /** "key": for a key that recurs as the same String object (a literal, a constant). */
    void key(String key) {
        key(encodedKey(key));
    }

    /** "key": as encoded by {@link #encodeKey}. */
    void key(byte[] k) {
        member();
        ensure(k.length);
        System.arraycopy(k, 0, buf, pos, k.length);
        pos += k.length;
        afterKey = true;
    }

    /** The bytes of "key": for {@link #key(byte[])}. */
    static byte[] encodeKey(String key) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        JsonLineWriter w = new JsonLineWriter(b);
        w.quoted(key);
        w.buf[w.pos++] = ':';
        return java.util.Arrays.copyOf(w.buf, w.pos);
    }

    /** "key": for a key that may be a new String object each time (not cached). */
    void freshKey(String key) {
        member();
        quoted(key);
        ensure(1);
        buf[pos++] = ':';
        afterKey = true;
    }

    void number(long v) {
        value();
        writeLong(v);
    }

    /** v's digits (and sign), no separator. */
    private void writeLong(long v) {
        ensure(20);
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                System.arraycopy(MIN_LONG, 0, buf, pos, MIN_LONG.length);
                pos += MIN_LONG.length;
                return;
            }
            buf[pos++] = '-';
            v = -v;
        }
        // in int arithmetic, nine digits at a time: a long division per digit was 60 % of the
        // writer's time (timestamps have 19 digits)
        if (v < BILLION) {
            digits((int) v);
        } else {
            long hi = v / BILLION;
            int lo = (int) (v - hi * BILLION);
            if (hi < BILLION) {
                digits((int) hi);
            } else {
                long top = hi / BILLION;
                digits((int) top);
                nineDigits((int) (hi - top * BILLION));
            }
            nineDigits(lo);
        }
    }

    private static final long BILLION = 1_000_000_000L;

    /**
     * A number that is often the one this call site wrote last (a timestamp's seconds, a network
     * namespace): its digits are copied from the last time. {@code slot} names the call site (0-3).
     */
    void recurringNumber(long v, int slot) {
        if (v == lastValue[slot] && lastDigits[slot] != null) {
            value();
            byte[] d = lastDigits[slot];
            ensure(d.length);
            System.arraycopy(d, 0, buf, pos, d.length);
            pos += d.length;
            return;
        }
        value();
        capturing = true;
        int start = pos;
        writeLong(v);
        lastDigits[slot] = java.util.Arrays.copyOfRange(buf, start, pos);
        lastValue[slot] = v;
        capturing = false;
    }

    /** A nanosecond timestamp: the seconds' digits come from {@link #recurringNumber} (slot 3). */
    void timestamp(long ns) {
        if (ns < BILLION) {
            number(ns);
            return;
        }
        long sec = ns / BILLION;
        recurringNumber(sec, 3);
        afterKey = true; // the nanoseconds continue the same number
        ensure(9);
        nineDigits((int) (ns - sec * BILLION));
        afterKey = false;
    }

    private final long[] lastValue = new long[4];
    private final byte[][] lastDigits = new byte[4][];
    /** "00".."99": two digits per division. */
    private static final byte[] PAIRS = new byte[200];

    static {
        for (int i = 0; i < 100; i++) {
            PAIRS[2 * i] = (byte) ('0' + i / 10);
            PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
        }
    }

    /** v >= 0 in as many digits as it has. */
    private void digits(int v) {
        int n = 1;
        for (int t = 10; n < 10 && v >= t; t *= 10) n++;
        fill(v, pos + n);
        pos += n;
    }

    /** 0 <= v < 10^9 in exactly nine digits, zero-padded. */
    private void nineDigits(int v) {
        fill(v, pos + 9);
        pos += 9;
    }

    /** Writes v's digits backwards, ending before {@code end}; zeros between pos and the first digit. */
    private void fill(int v, int end) {
        int i = end;
        while (v >= 100) {
            int q = v / 100, r = v - q * 100;
            buf[--i] = PAIRS[2 * r + 1];
            buf[--i] = PAIRS[2 * r];
            v = q;
        }
        if (v >= 10) {
            buf[--i] = PAIRS[2 * v + 1];
            buf[--i] = PAIRS[2 * v];
        } else {
            buf[--i] = (byte) ('0' + v);
        }
        while (i > pos) buf[--i] = '0';
    }

    /** A number already formatted as JSON (e.g. a BigDecimal's plain text). */
    void rawNumber(String text) {
        value();
        ensure(text.length());
        for (int i = 0; i < text.length(); i++) buf[pos++] = (byte) text.charAt(i);
    }

    void nul() {
        value();
        ensure(4);
        System.arraycopy(NULL, 0, buf, pos, 4);
        pos += 4;
    }

    /** A string value; null writes null. */
    void string(String s) {
        if (s == null) {
            nul();
            return;
        }
        value();
        quoted(s);
    }

    /**
     * A string value that recurs as the same object (interned names, cached comm and cgroup paths):
     * its encoded bytes are kept in a direct-mapped cache by identity.
     */
    void recurringString(String s) {
        if (s == null) {
            nul();
            return;
        }
        value();
        int i = s.hashCode() & (RECENT - 1);
        byte[] b;
        if (recentValue[i] == s) {
            b = recentValueBytes[i];
        } else {
            capturing = true;
            int start = pos;
            quoted(s);
            b = java.util.Arrays.copyOfRange(buf, start, pos);
            capturing = false;
            recentValue[i] = s;
            recentValueBytes[i] = b;
            return;
        }
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    private byte[] encodedKey(String key) {
        int i = key.hashCode() & (RECENT - 1);
        if (recentKey[i] == key) return recentKeyBytes[i];
        byte[] k = keys.computeIfAbsent(key, s -> {
            capturing = true;
            int saved = pos;
            quoted(s);
            ensure(1);
            buf[pos++] = ':';
            byte[] r = java.util.Arrays.copyOfRange(buf, saved, pos);
            pos = saved;
            capturing = false;
            return r;
        });
        recentKey[i] = key;
        recentKeyBytes[i] = k;
        return k;
    }

    /** "s", escaped. */
    private void quoted(String s) {
        int n = s.length();
        ensure(n + 2);
        buf[pos++] = '"';
        int i = 0;
        // fast path: printable ASCII with nothing to escape, one byte per char
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
            buf[pos++] = (byte) c;
        }
        for (; i < n; i++) {
            char c = s.charAt(i);
            ensure(6 + 1);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                buf[pos++] = (byte) c;
            } else if (c == '"' || c == '\\') {
                buf[pos++] = '\\';
                buf[pos++] = (byte) c;
            } else if (c < 0x20) {
                buf[pos++] = '\\';
                switch (c) {
                    case '\n' -> buf[pos++] = 'n';
                    case '\r' -> buf[pos++] = 'r';
                    case '\t' -> buf[pos++] = 't';
                    case '\b' -> buf[pos++] = 'b';
                    case '\f' -> buf[pos++] = 'f';
                    default -> {
                        buf[pos++] = 'u';
                        buf[pos++] = '0';
                        buf[pos++] = '0';
                        buf[pos++] = HEX[c >> 4];
                        buf[pos++] = HEX[c & 0xf];
                    }
                }
            } else if (c < 0x800) { // includes DEL (0x7f), written as itself
                if (c < 0x80) {
                    buf[pos++] = (byte) c;
                } else {
                    buf[pos++] = (byte) (0xc0 | (c >> 6));
                    buf[pos++] = (byte) (0x80 | (c & 0x3f));
                }
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                buf[pos++] = (byte) (0xf0 | (cp >> 18));
                buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                buf[pos++] = (byte) (0x80 | (cp & 0x3f));
            } else {
                if (Character.isSurrogate(c)) c = '\ufffd'; // a lone half of a pair
                buf[pos++] = (byte) (0xe0 | (c >> 12));
                buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3f));
                buf[pos++] = (byte) (0x80 | (c & 0x3f));
            }
        }
        ensure(1);
        buf[pos++] = '"';
    }

    // ------------------------------------------------------------------ buffer

    /** Room for n more bytes: the buffer is written out when full, or grown for one long value. */
    private void ensure(int n) {
        if (pos + n <= buf.length) return;
        if (!capturing) {
            drain();
            if (n <= buf.length) return;
        }
        // while an encoding is being captured for a cache (its bytes must stay in buf), or for one
        // value longer than the buffer: grow
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
    }

    /** Set while quoted() writes bytes that are then copied out of buf for a cache. */
    private boolean capturing;

    private void drain() {
        if (pos == 0) return;
        try {
            out.write(buf, 0, pos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pos = 0;
        if (buf.length > CAPACITY) buf = new byte[CAPACITY];
    }

    void flush() {
        drain();
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
