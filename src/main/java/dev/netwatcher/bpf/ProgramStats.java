package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What the kernel counts for one BPF program (include/uapi/linux/bpf.h, struct
 * bpf_prog_info): runs and time spent in it (only while run-time stats are on,
 * see kernel/bpf/syscall.c bpf_enable_runtime_stats()), and runs skipped because
 * the program was already running on that CPU (recursion_misses, counted by
 * bpf_prog_inc_misses_counter() in kernel/bpf/trampoline.c and bpf_trace.c).
 */
public record ProgramStats(String program, long runCount, long runTimeNs, long recursionMisses) {
    /** Offsets in struct bpf_prog_info (uapi, stable); checked against the kernel's BTF in BpfStatsTest. */
    static final int RUN_TIME_NS = 192, RUN_CNT = 200, RECURSION_MISSES = 208, INFO_SIZE = 216;

    static ProgramStats of(String program, int progFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(INFO_SIZE, 8);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, INFO_SIZE);
            int rc = Native.callInt(() -> (int) Libbpf.OBJ_GET_INFO_BY_FD.invokeExact(progFd, info, len));
            if (rc != 0) throw new BpfException("cannot read the stats of program " + program + ": " + Native.strerror(-rc), -rc);
            return new ProgramStats(program, info.get(JAVA_LONG, RUN_CNT), info.get(JAVA_LONG, RUN_TIME_NS),
                    info.get(JAVA_LONG, RECURSION_MISSES));
        }
    }

    /**
     * Turns on the kernel's run count and run time for every BPF program (BPF_ENABLE_STATS,
     * BPF_STATS_RUN_TIME) for as long as the returned handle is open. The kernel ties it
     * to the fd, so it ends with the process whatever the exit. Costs two clock reads per
     * program run.
     */
    public static AutoCloseable enableRunTime() {
        int fd = Native.callInt(() -> (int) Libbpf.ENABLE_STATS.invokeExact(0 /* BPF_STATS_RUN_TIME */));
        if (fd < 0) throw new BpfException("cannot enable BPF run-time stats: " + Native.strerror(-fd), -fd);
        return new Fd(fd);
    }
}
