package dev.netwatcher.kernel;

import java.time.Instant;

/**
 * Converts bpf_ktime_get_ns() (CLOCK_MONOTONIC) to Unix epoch nanoseconds. On Linux
 * System.nanoTime() reads the same clock, so the offset is taken once at start.
 */
public final class Clock {
    private final long offsetNs;

    public Clock() {
        Instant now = Instant.now();
        long mono = System.nanoTime();
        this.offsetNs = now.getEpochSecond() * 1_000_000_000L + now.getNano() - mono;
    }

    public long toEpochNs(long monotonicNs) {
        return monotonicNs + offsetNs;
    }

    public long nowEpochNs() {
        return toEpochNs(System.nanoTime());
    }
}
