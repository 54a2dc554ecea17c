package dev.netwatcher.event;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Nanoseconds a packet spent in each layer of its path, in path order. A layer
 * whose two boundaries were not both seen is absent, never zero.
 */
public record Layers(String[] names, long[] ns, int mask) {
    /** Path order (and names) of each direction. */
    public static final String[] TX = {"transport", "ip", "qdisc", "driver"};
    public static final String[] RX = {"driver", "ip", "transport", "socket"};

    public boolean has(int i) {
        return (mask & (1 << i)) != 0;
    }

    public int size() {
        return names.length;
    }

    public String name(int i) {
        return names[i];
    }

    public long get(int i) {
        return ns[i];
    }

    /** The value of a layer by name, or -1 when absent. */
    public long get(String name) {
        for (int i = 0; i < names.length; i++) if (names[i].equals(name)) return has(i) ? ns[i] : -1;
        return -1;
    }

    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) if (has(i)) m.put(names[i], ns[i]);
        return m;
    }

    /** Fixed-width microseconds, "-" for an absent layer. */
    public String columns() {
        return columns(new StringBuilder(10 * names.length)).toString();
    }

    /** columns(), appended to sb. */
    public StringBuilder columns(StringBuilder sb) {
        for (int i = 0; i < names.length; i++) {
            if (i > 0) sb.append(' ');
            if (has(i)) Text.microsRight(sb, ns[i], 9);
            else Text.right(sb, "-", 9);
        }
        return sb;
    }

    public static String micros(long ns) {
        return Text.micros(new StringBuilder(12), ns).toString();
    }
}
