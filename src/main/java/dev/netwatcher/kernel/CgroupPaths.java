package dev.netwatcher.kernel;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import dev.netwatcher.event.Cgroup;

/**
 * The path of a cgroup v2 id, as records carry it (nw_hdr.cgroup): the id is the kernfs node
 * id, which is the inode number of the cgroup's directory (kernfs_ino(), fs/kernfs), so a walk
 * of the cgroup2 mount finds it. Paths are relative to that mount, "/" for the root, as
 * /proc/PID/cgroup shows them. An id not seen in the last walk triggers a new walk, at most
 * every {@link #MIN_WALK_NS} (cgroups come and go: a container starts); one that no walk
 * finds (a cgroup removed since) stays unresolved, and its records carry no path.
 */
public final class CgroupPaths {
    static final long MIN_WALK_NS = 1_000_000_000L;
    /** A bound on the walk, for hosts with very many cgroups. */
    static final int MAX_CGROUPS = 100_000;

    private final Supplier<Path> root;
    private Path mount;
    private volatile Map<Long, Cgroup> paths = Map.of();
    private long lastWalk = Long.MIN_VALUE / 2;

    public CgroupPaths(Supplier<Path> root) {
        this.root = root;
    }

    /** The cgroup2 mount of this host (Cgroups.v2Root). */
    public static CgroupPaths system() {
        return new CgroupPaths(dev.netwatcher.bpf.Cgroups::v2Root);
    }

    /** Cgroup id, or null (0, or not found). */
    public Cgroup of(long id) {
        if (id == 0) return null;
        Cgroup p = paths.get(id);
        if (p != null) return p;
        synchronized (this) {
            p = paths.get(id);
            if (p != null) return p;
            long now = System.nanoTime();
            if (now - lastWalk < MIN_WALK_NS) return null;
            lastWalk = now;
            paths = walk();
            return paths.get(id);
        }
    }

    /** The id of the cgroup at path (absolute, or relative to the cgroup2 mount), or -1 if there is none. */
    public long idOf(String path) {
        try {
            Path m = mount();
            Path p = Path.of(path);
            Path dir = p.isAbsolute() && p.startsWith(m) ? p : m.resolve(path.replaceFirst("^/+", ""));
            if (!Files.isDirectory(dir) || !Files.exists(dir.resolve("cgroup.procs"))) return -1;
            return (Long) Files.getAttribute(dir, "unix:ino");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private Path mount() {
        if (mount == null) mount = root.get();
        return mount;
    }

    private Map<Long, Cgroup> walk() {
        Map<Long, Cgroup> found = new HashMap<>();
        Path m;
        try {
            m = mount();
        } catch (RuntimeException e) {
            return found;
        }
        try {
            Files.walkFileTree(m, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    long ino = inode(dir);
                    if (ino > 0) found.put(ino, new Cgroup("/" + m.relativize(dir)));
                    return found.size() >= MAX_CGROUPS ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE; // a cgroup removed during the walk
                }
            });
        } catch (IOException e) {
            // what was found so far stands
        }
        return found;
    }

    private static long inode(Path dir) {
        try {
            return (Long) Files.getAttribute(dir, "unix:ino");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
