package dev.netwatcher.kernel;

import dev.netwatcher.event.SocketOwner;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Which process holds a socket: its inode number against the `socket:[INODE]` links of every
 * /proc/PID/fd, the way `ss -p` finds it. The kernel keeps no owner in the socket (an fd can be
 * passed or inherited), so this is the process that has it open now; with several, the lowest
 * pid (usually the parent that made it). A full scan of /proc runs only when an inode is asked
 * for that the last scan did not see: at most once per socket walk ({@link #newWalk()}), and
 * never twice within {@link #MIN_SCAN_NS}. An inode no process holds (a kernel socket, one
 * whose process closed it) is not looked for again for {@link #FORGET_MISSING_NS}.
 */
public final class SocketOwners {
    static final long MIN_SCAN_NS = 100_000_000L, FORGET_MISSING_NS = 10_000_000_000L;

    private final Path proc;
    private Map<Long, SocketOwner> owners = new HashMap<>();
    private final Map<Long, Long> missingSince = new HashMap<>();
    private long lastScan = Long.MIN_VALUE / 2;
    private boolean scanned;

    public SocketOwners() {
        this(Path.of("/proc"));
    }

    SocketOwners(Path proc) {
        this.proc = proc;
    }

    /** A socket walk starts: one scan may run for the inodes it brings. */
    public void newWalk() {
        scanned = false;
    }

    /** The owner of socket inode ino, or null (0, unknown, or not found yet). */
    public SocketOwner owner(long ino) {
        if (ino == 0) return null;
        SocketOwner o = owners.get(ino);
        if (o != null) return o;
        long now = System.nanoTime();
        Long since = missingSince.get(ino);
        if (since != null && now - since < FORGET_MISSING_NS) return null;
        if (scanned || now - lastScan < MIN_SCAN_NS) return null; // asked again in the next walk
        scan();
        scanned = true;
        lastScan = now;
        o = owners.get(ino);
        if (o == null) missingSince.put(ino, now);
        else missingSince.remove(ino);
        return o;
    }

    private void scan() {
        Map<Long, SocketOwner> found = new HashMap<>();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> isNumber(p.getFileName().toString()))) {
            for (Path pidDir : pids) {
                int pid = Integer.parseInt(pidDir.getFileName().toString());
                String comm = null;
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
                    for (Path fd : fds) {
                        long ino = socketInode(fd);
                        if (ino == 0) continue;
                        SocketOwner had = found.get(ino);
                        if (had != null && had.pid() < pid) continue;
                        if (comm == null) comm = comm(pidDir);
                        found.put(ino, new SocketOwner(pid, comm));
                    }
                } catch (IOException | SecurityException gone) {
                    // the process ended, or its fds are not ours to read
                }
            }
        } catch (IOException e) {
            return; // no /proc: owners stay unknown
        }
        owners = found;
    }

    private static long socketInode(Path fd) {
        try {
            String target = Files.readSymbolicLink(fd).toString();
            if (!target.startsWith("socket:[") || !target.endsWith("]")) return 0;
            return Long.parseLong(target, 8, target.length() - 1, 10);
        } catch (IOException | UnsupportedOperationException | NumberFormatException e) {
            return 0;
        }
    }

    private static String comm(Path pidDir) {
        try {
            return Files.readString(pidDir.resolve("comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return true;
    }
}
