package dev.netwatcher.metrics;

import dev.netwatcher.event.Cgroup;
import dev.netwatcher.event.EventHeader;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * --metrics-labels: the owner labels event metrics carry, "cgroup" (the cgroup v2 path) and/or
 * "container" (its container id, first 12 hex digits as docker shows it). Bounded: each label
 * takes at most {@link #MAX_VALUES} distinct values over a run; an owner seen after that is
 * counted under "other", so a host that starts containers all day cannot grow the series
 * without end. An event with no owner (no socket, no task) has the label empty, which
 * Prometheus treats as absent; so does a cgroup that is not a container's for "container".
 */
public final class OwnerLabels {
    public static final int MAX_VALUES = 100;
    public static final List<String> KNOWN = List.of("cgroup", "container");

    private final boolean cgroup, container;
    private final Set<String> cgroups = new HashSet<>(), containers = new HashSet<>();

    /** names: a subset of KNOWN (validated by the CLI). */
    public OwnerLabels(List<String> names) {
        this.cgroup = names.contains("cgroup");
        this.container = names.contains("container");
    }

    public static OwnerLabels none() {
        return new OwnerLabels(List.of());
    }

    /** The label names, in the order values() gives their values. */
    public String[] names() {
        return cgroup && container ? new String[] {"cgroup", "container"} : cgroup ? new String[] {"cgroup"}
                : container ? new String[] {"container"} : new String[0];
    }

    /** The values for an event with this header. */
    public synchronized String[] values(EventHeader h) {
        Cgroup cg = h == null ? null : h.cgroup();
        String path = cg == null ? "" : bound(cgroups, cg.path());
        String id = cg == null || cg.container() == null ? "" : bound(containers, cg.container().substring(0, 12));
        return cgroup && container ? new String[] {path, id} : cgroup ? new String[] {path} : container ? new String[] {id} : new String[0];
    }

    private static String bound(Set<String> seen, String v) {
        if (seen.contains(v)) return v;
        if (seen.size() >= MAX_VALUES) return "other";
        seen.add(v);
        return v;
    }
}
