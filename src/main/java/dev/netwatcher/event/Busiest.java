package dev.netwatcher.event;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A socket walk's connections as a table a person reads: busiest first (bytes both ways), the first N
 * of them, and what is left counted per state ("... and 4990 more connections: ESTABLISHED 4000,
 * TIME_WAIT 990"). For the overview, -x on the console and the live view.
 */
public record Busiest(List<TcpConnEvent> shown, int total, Map<String, Long> moreByState) {
    /** The first top of conns, busiest first (all when top is below 0). */
    public static Busiest of(List<TcpConnEvent> conns, int top) {
        List<TcpConnEvent> sorted = new ArrayList<>(conns);
        sorted.sort(Comparator.comparingLong((TcpConnEvent c) -> -(c.info().bytesSent() + c.info().bytesReceived()))
                .thenComparing(c -> Flow.endpoint(c.flow().saddr(), c.flow().sport())));
        int n = top < 0 ? sorted.size() : Math.min(top, sorted.size());
        Map<String, Long> more = new TreeMap<>();
        for (TcpConnEvent c : sorted.subList(n, sorted.size())) more.merge(c.info().state(), 1L, Long::sum);
        return new Busiest(List.copyOf(sorted.subList(0, n)), sorted.size(), more);
    }

    public int more() {
        return total - shown.size();
    }

    /** "... and 4990 more connections: ESTABLISHED 4000, TIME_WAIT 990", or null when all are shown. */
    public String moreLine(String what) {
        if (more() == 0) return null;
        StringBuilder sb = new StringBuilder("... and ").append(more()).append(" more ").append(what).append(':');
        String sep = " ";
        for (Map.Entry<String, Long> e : moreByState.entrySet()) {
            sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
            sep = ", ";
        }
        return sb.toString();
    }
}
