package dev.netwatcher.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the process may do with BPF: from the effective capability set in /proc/self/status. */
public final class Privileges {
    private static final int CAP_NET_ADMIN = 12, CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39;

    private Privileges() {}

    /** The capabilities tracing needs and the process lacks, e.g. ["CAP_BPF", "CAP_PERFMON"]; empty if none. */
    public static List<String> missingForTracing() {
        long caps = effectiveCaps();
        List<String> missing = new ArrayList<>();
        boolean sysAdmin = has(caps, CAP_SYS_ADMIN);
        if (!sysAdmin && !has(caps, CAP_BPF)) missing.add("CAP_BPF");
        if (!sysAdmin && !has(caps, CAP_PERFMON)) missing.add("CAP_PERFMON");
        return missing;
    }

    public static boolean hasNetAdmin() {
        return has(effectiveCaps(), CAP_NET_ADMIN);
    }

    private static boolean has(long caps, int cap) {
        return (caps & (1L << cap)) != 0;
    }

    static long effectiveCaps() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) return Long.parseUnsignedLong(line.substring(7).trim(), 16);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return 0;
    }
}
