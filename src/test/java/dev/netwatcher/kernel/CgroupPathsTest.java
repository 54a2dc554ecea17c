package dev.netwatcher.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Cgroup ids to paths over a directory tree standing in for the cgroup2 mount (an id is a directory's inode). */
class CgroupPathsTest {
    private static long ino(Path p) throws Exception {
        return (Long) Files.getAttribute(p, "unix:ino");
    }

    /** A container that starts right after another one was looked up still gets its name (no quiet second between walks). */
    @Test
    void aCgroupMadeJustAfterALookupIsFound(@TempDir Path root) throws Exception {
        CgroupPaths paths = new CgroupPaths(() -> root);
        Path a = Files.createDirectories(root.resolve("system.slice/a.scope"));
        assertEquals("/system.slice/a.scope", paths.of(ino(a)).path());
        Path b = Files.createDirectories(root.resolve("system.slice/docker-" + "0123456789abcdef".repeat(4) + ".scope"));
        assertEquals("0123456789abcdef".repeat(4), paths.of(ino(b)).container(), "found by a walk at once");
        assertEquals("/", paths.of(ino(root)).path());
    }

    /** An id that no walk finds is not walked for again; a storm of new ids costs MAX_WALKS walks a window. */
    @Test
    void missingIdsAndStormsAreBounded(@TempDir Path root) throws Exception {
        CgroupPaths paths = new CgroupPaths(() -> root);
        assertNull(paths.of(1L << 60), "no such cgroup");
        Path late = Files.createDirectories(root.resolve("late"));
        assertEquals("/late", paths.of(ino(late)).path());
        for (int i = 0; i < CgroupPaths.MAX_WALKS; i++) paths.of((1L << 60) + 1 + i); // each one walk, none found
        Path stormy = Files.createDirectories(root.resolve("stormy"));
        assertNull(paths.of(ino(stormy)), "the window's walks are spent");
    }
}
