package dev.netwatcher.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The launcher records the JVM's AOT profile from the first run after a build that follows packets
 * (scripts/env.sh nw_cache_opts), and makes the cache from it only if that run taught the JIT the
 * event path: a run on a quiet host records classes but no profile of the per-record methods, and a
 * cache made from it would stand in the way of a better one. This says so, in a file the launcher
 * names ({@code -Dnetwatcher.aot.trained=PATH}), when the run delivered enough records.
 */
final class AotTraining {
    /** Enough records for C2 to compile the per-record methods (its thresholds are about 10^4 calls). */
    static final long RECORDS = 50_000;

    private AotTraining() {
    }

    /** Called once the session has ended, with the records it delivered. */
    static void ended(long delivered) {
        String mark = System.getProperty("netwatcher.aot.trained");
        if (mark == null || delivered < RECORDS) return;
        try {
            Files.writeString(Path.of(mark), delivered + " records\n");
        } catch (IOException | RuntimeException e) {
            // no mark: the launcher records again next time
        }
    }
}
