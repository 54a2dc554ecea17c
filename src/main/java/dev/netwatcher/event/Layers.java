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
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            if (i > 0) sb.append(' ');
            sb.append(String.format("%9s", has(i) ? micros(ns[i]) : "-"));
        }
        return sb.toString();
    }

    public static String micros(long ns) {
        return String.format("%.1f", ns / 1000.0);
    }
}
