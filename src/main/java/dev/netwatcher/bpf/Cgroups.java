package dev.netwatcher.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
public final class Cgroups {
    private Cgroups() {}

    /**
     * The mount point of the first cgroup2 file system in /proc/self/mountinfo. Programs
     * attached to its root apply to every process (the root's effective programs are
     * inherited by all descendant cgroups).
     */
    public static Path v2Root() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                // id parent major:minor root mountpoint options [optional...] - fstype source superopts
                int dash = line.indexOf(" - ");
                if (dash < 0) continue;
                String[] after = line.substring(dash + 3).split(" ");
                String[] before = line.substring(0, dash).split(" ");
                if (after.length > 0 && after[0].equals("cgroup2") && before.length > 4 && before[3].equals("/")) {
                    return Path.of(before[4].replace("\\040", " "));
                }
            }
        } catch (IOException e) {
            throw new BpfException("cannot read /proc/self/mountinfo: " + e.getMessage());
        }
        throw new BpfException("no cgroup v2 file system is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)");
    }
}
