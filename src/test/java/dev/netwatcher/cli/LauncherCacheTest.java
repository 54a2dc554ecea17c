package dev.netwatcher.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's choice of the JVM's caches (scripts/env.sh nw_cache_opts), run in bash against a
 * jar in a temporary folder and a stand-in java that writes the cache it is asked to make: AppCDS
 * until a run that follows packets records a profile, a cache only from a recorded run that marked
 * itself (cli/AotTraining), the cache mapped once made, and the files of older builds deleted.
 */
class LauncherCacheTest {
    @TempDir
    Path tmp;

    /** NW_JVM_OPTS after nw_cache_opts JAR ARGS, one per line; waits for a background cache maker. */
    private List<String> opts(String... args) throws Exception {
        String script = ". scripts/env.sh; NW_JVM_OPTS=(); JAVA_HOME=" + tmp.resolve("jdk") + "; nw_cache_opts "
                + tmp.resolve("netwatcher.jar") + " " + String.join(" ", args) + "; wait; printf '%s\\n' \"${NW_JVM_OPTS[@]}\"";
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    private Path base() throws Exception {
        Process p = new ProcessBuilder("bash", "-c", ". scripts/env.sh; nw_cache_base " + tmp.resolve("netwatcher.jar") + "; echo $NW_CACHE_BASE").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return Path.of(out);
    }

    private Path file(String ext) throws Exception {
        return Path.of(base() + ext);
    }

    @Test
    void theCacheComesFromARunThatFollowedEnoughPackets() throws Exception {
        Files.writeString(tmp.resolve("netwatcher.jar"), "jar");
        Path bin = Files.createDirectories(tmp.resolve("jdk/bin"));
        // the stand-in java: -XX:AOTCache=F with -XX:AOTMode=create writes F
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/bash\nfor a; do case $a in -XX:AOTCache=*) echo cache > \"${a#-XX:AOTCache=}\";; esac; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path old = Files.writeString(tmp.resolve("netwatcher-1-2.aot"), "an older build's");

        // no packets followed: the class-data archive, and an older build's files go
        assertTrue(opts("-S", "-k").stream().anyMatch(o -> o.startsWith("-XX:SharedArchiveFile=")));
        assertFalse(Files.exists(old));
        // -t (or -tu, --udp): the profile is recorded, with the file the run marks itself in
        for (String[] a : new String[][] {{"-t"}, {"-Stu"}, {"--udp"}, {"-S", "-I"}}) {
            List<String> o = opts(a);
            assertTrue(o.contains("-XX:AOTMode=record") && o.contains("-XX:AOTConfiguration=" + file(".aotconf"))
                    && o.contains("-Dnetwatcher.aot.trained=" + file(".aottrained")), String.join(" ", a) + ": " + o);
        }
        assertFalse(opts("-S", "--saddr", "10.0.0.1").contains("-XX:AOTMode=record"));
        // a recorded run without its mark (too few records): no cache, the next packet run records again
        Files.writeString(file(".aotconf"), "profile");
        assertTrue(opts("-t").contains("-XX:AOTMode=record"));
        assertFalse(Files.exists(file(".aot")));
        // with its mark: the next launch makes the cache (this run, one that follows packets too, without
        // it); later runs that follow packets map it, the others keep the class-data archive (faster start)
        for (String next : new String[] {"-S", "-t"}) {
            Files.deleteIfExists(file(".aot"));
            Files.writeString(file(".aotconf"), "profile");
            Files.writeString(file(".aottrained"), "60000 records\n");
            List<String> making = opts(next);
            assertTrue(making.stream().anyMatch(o -> o.startsWith("-XX:SharedArchiveFile=")), next + ": " + making);
            assertFalse(making.stream().anyMatch(o -> o.startsWith("-XX:AOTCache=") || o.equals("-XX:AOTMode=record")), making.toString());
            assertTrue(Files.exists(file(".aot")), "the cache was made");
            assertFalse(Files.exists(file(".aotconf")) || Files.exists(file(".aottrained")));
        }
        assertTrue(opts("-t").contains("-XX:AOTCache=" + file(".aot")));
        assertTrue(opts("-I", "-n").contains("-XX:AOTCache=" + file(".aot")));
        List<String> other = opts("-S", "-r");
        assertTrue(other.contains("-XX:SharedArchiveFile=" + file(".jsa")) && other.stream().noneMatch(o -> o.startsWith("-XX:AOT")), other.toString());
    }
}
