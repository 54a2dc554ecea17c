package dev.netwatcher.stats;

import java.util.List;
import java.util.Map;

/**
 * netwatcher's own health: events delivered to user space, records the kernel side
 * could not deliver (ring buffer full), hook hits a probe was not run for (missed, counted
 * by the probe's witness program, see nw_hook_hit() in nw_common.h), the probes' own counters (evicted and partly
 * matched packets, ...) and, per BPF program, runs, time and recursion misses.
 */
public record Health(long delivered, long lost, long missed, Map<String, Long> counters, List<ProgramRun> programs) {
    /** runs and runNs are 0 unless the kernel's run-time stats are on (--bpf-stats). */
    public record ProgramRun(String program, long runs, long runNs, long recursionMisses) {}
}
