package dev.netwatcher.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis's RESP2/RESP3 (redis.io "Redis serialization protocol specification"): one value at a
 * time from the start of a buffer. A command is an array of bulk strings (or an inline line such
 * as {@code PING}); a reply is any value. Never throws, never reads outside [from, to).
 */
public final class Resp {
    private Resp() {}

    /** The buffer ends before the value does. */
    public static final int INCOMPLETE = -1;
    /** Not RESP at this point. */
    public static final int MALFORMED = -2;
    static final int MAX_DEPTH = 16;
    /** A command's name and key longer than this are cut (and end with "…"). */
    public static final int WORD_MAX = 64;

    /**
     * A parsed value: end is the index after it, or INCOMPLETE/MALFORMED. type: simple, error,
     * integer, bulk, null, array, map, set, double, boolean, big_number, verbatim, push, attribute.
     * text: an error's or simple string's text; words: a top-level array's first two strings, or an
     * inline command's words.
     */
    public record Value(int end, String type, String text, List<String> words) {
        static Value fail(int code) {
            return new Value(code, null, null, List.of());
        }
    }

    public static Value parse(byte[] b, int from, int to) {
        to = Math.min(to, b.length);
        if (from >= to) return Value.fail(INCOMPLETE);
        int c = b[from] & 0xff;
        if (c >= 'A' && c <= 'z' && c != '_' && c != '|') return inline(b, from, to);
        List<String> words = new ArrayList<>(2);
        int[] end = {from};
        String[] text = {null};
        String type = value(b, from, to, 0, end, text, words);
        if (type == null) return Value.fail(end[0] == MALFORMED ? MALFORMED : INCOMPLETE);
        return new Value(end[0], type, text[0], List.copyOf(words));
    }

    /** One value at at; sets end[0] to the index after it (or MALFORMED / INCOMPLETE with a null return). */
    private static String value(byte[] b, int at, int to, int depth, int[] end, String[] text, List<String> words) {
        if (depth > MAX_DEPTH) {
            end[0] = MALFORMED;
            return null;
        }
        if (at >= to) {
            end[0] = INCOMPLETE;
            return null;
        }
        int lineEnd = lineEnd(b, at + 1, to);
        if (lineEnd < 0) {
            end[0] = lineEnd;
            return null;
        }
        char t = (char) (b[at] & 0xff);
        int next = lineEnd + 2;
        switch (t) {
            case '+', '-', ':', '_', ',', '#', '(' -> {
                if (depth == 0 && (t == '+' || t == '-')) text[0] = word(b, at + 1, lineEnd, 200);
                end[0] = next;
                return switch (t) {
                    case '+' -> "simple";
                    case '-' -> "error";
                    case ':' -> "integer";
                    case '_' -> "null";
                    case ',' -> "double";
                    case '#' -> "boolean";
                    default -> "big_number";
                };
            }
            case '$', '=', '!' -> {
                long n = number(b, at + 1, lineEnd);
                if (n == -1 && t == '$') {
                    end[0] = next;
                    return "null";
                }
                if (n < 0 || n > 512L * 1024 * 1024) {
                    end[0] = MALFORMED;
                    return null;
                }
                long stop = next + n + 2;
                if (stop > to) {
                    end[0] = INCOMPLETE;
                    return null;
                }
                if (b[(int) stop - 2] != '\r' || b[(int) stop - 1] != '\n') {
                    end[0] = MALFORMED;
                    return null;
                }
                if (depth == 1 && words.size() < 2) words.add(word(b, next, (int) (next + n), WORD_MAX));
                if (depth == 0 && t == '!') text[0] = word(b, next, (int) (next + n), 200);
                end[0] = (int) stop;
                return t == '$' ? "bulk" : t == '=' ? "verbatim" : "error";
            }
            case '*', '%', '~', '>', '|' -> {
                long n = number(b, at + 1, lineEnd);
                if (n == -1 && t == '*') {
                    end[0] = next;
                    return "null";
                }
                if (n < 0 || n > 1_000_000) {
                    end[0] = MALFORMED;
                    return null;
                }
                long items = t == '%' || t == '|' ? 2 * n : n;
                int pos = next;
                for (long i = 0; i < items; i++) {
                    String inner = value(b, pos, to, depth + 1, end, text, words);
                    if (inner == null) return null;
                    pos = end[0];
                }
                if (t == '|') { // an attribute comes before the value it describes
                    return value(b, pos, to, depth, end, text, words);
                }
                end[0] = pos;
                return switch (t) {
                    case '*' -> "array";
                    case '%' -> "map";
                    case '~' -> "set";
                    default -> "push";
                };
            }
            default -> {
                end[0] = MALFORMED;
                return null;
            }
        }
    }

    /** An inline command: words separated by spaces up to CRLF (or LF). */
    private static Value inline(byte[] b, int from, int to) {
        int lf = -1;
        for (int i = from; i < to && i - from < 65536; i++) {
            if (b[i] == '\n') {
                lf = i;
                break;
            }
            if (b[i] < 0x20 && b[i] != '\r' && b[i] != '\t') return Value.fail(MALFORMED);
        }
        if (lf < 0) return Value.fail(to - from >= 65536 ? MALFORMED : INCOMPLETE);
        int stop = lf > from && b[lf - 1] == '\r' ? lf - 1 : lf;
        List<String> words = new ArrayList<>(2);
        int i = from;
        while (i < stop && words.size() < 2) {
            while (i < stop && b[i] == ' ') i++;
            int s = i;
            while (i < stop && b[i] != ' ') i++;
            if (i > s) words.add(word(b, s, i, WORD_MAX));
        }
        return new Value(lf + 1, "inline", null, List.copyOf(words));
    }

    /** The index of the CR of the CRLF ending the line at at; INCOMPLETE, or MALFORMED for an absurd line. */
    private static int lineEnd(byte[] b, int at, int to) {
        for (int i = at; i + 1 < to; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') return i;
            if (i - at > 65536) return MALFORMED;
        }
        return INCOMPLETE;
    }

    private static long number(byte[] b, int from, int to) {
        if (from >= to || to - from > 19) return -2;
        boolean neg = b[from] == '-';
        long v = 0;
        for (int i = neg ? from + 1 : from; i < to; i++) {
            if (b[i] < '0' || b[i] > '9') return -2;
            v = v * 10 + (b[i] - '0');
        }
        if (neg && (from + 1 == to)) return -2;
        return neg ? -v : v;
    }

    private static String word(byte[] b, int from, int to, int max) {
        int n = Math.min(to - from, max);
        String s = new String(b, from, Math.max(0, n), StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(s.length() + 1);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? '?' : c);
        }
        if (to - from > max) sb.append('…');
        return sb.toString();
    }
}
