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
 * /proc/PID/cgroup shows them. An id the last walk did not see triggers a new walk at once
 * (cgroups come and go: a container that starts, sends and stops within a second still gets its
 * name), at most {@link #MAX_WALKS} per {@link #WINDOW_NS}; an id that a walk made after it was
 * first seen does not find (a cgroup removed since) is not walked for again, and its records
 * carry no path.
 */
public final class CgroupPaths {
    static final long WINDOW_NS = 1_000_000_000L;
    /** Walks per window at most: a storm of new ids (many containers starting) costs this many walks a second. */
    static final int MAX_WALKS = 10;
    /** Ids no walk found, remembered up to this many. */
    static final int MAX_MISSING = 10_000;
    /** A bound on the walk, for hosts with very many cgroups. */
    static final int MAX_CGROUPS = 100_000;

    private final Supplier<Path> root;
    private Path mount;
    private volatile Map<Long, Cgroup> paths = Map.of();
    private final java.util.Set<Long> missing = new java.util.HashSet<>();
    private long windowStart = Long.MIN_VALUE / 2;
    private int walks;

    public CgroupPaths(Supplier<Path> root) {
        this.root = root;
    }

    /** The cgroup2 mount of this host (Cgroups.v2Root). */
    public static CgroupPaths system() {
        return new CgroupPaths(dev.netwatcher.bpf.Cgroups::v2Root);
    }

    /** A hit: immutable, so a reader on another thread sees an id with its own cgroup. */
    private record Hit(long id, Cgroup cgroup) {}
    private static final int HITS = 256;
    /**
     * Recent hits, direct-mapped by id, in front of the map: every record's owner comes here, and the
     * map's Long keys cost a box and a hash walk each (bench/profile.sh "-t -u --json": HashMap.getNode
     * 10 % of the consumer's samples). A cgroup id is not reused while the host runs (a kernfs node id).
     */
    private final Hit[] hits = new Hit[HITS];

    /** Cgroup id, or null (0, or not found). */
    public Cgroup of(long id) {
        if (id == 0) return null;
        int i = (int) (id ^ (id >>> 17)) & (HITS - 1);
        Hit h = hits[i];
        if (h != null && h.id() == id) return h.cgroup();
        Cgroup p = paths.get(id);
        if (p != null) {
            hits[i] = new Hit(id, p);
            return p;
        }
        synchronized (this) {
            p = paths.get(id);
            if (p != null) return p;
            if (missing.contains(id)) return null;
            long now = System.nanoTime();
            if (now - windowStart >= WINDOW_NS) {
                windowStart = now;
                walks = 0;
            }
            if (walks >= MAX_WALKS) return null; // not marked missing: the next window walks for it
            walks++;
            paths = walk();
            p = paths.get(id);
            if (p == null && missing.size() < MAX_MISSING) missing.add(id);
            return p;
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
