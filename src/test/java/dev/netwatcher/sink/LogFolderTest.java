package dev.netwatcher.sink;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log folder as a local attacker would try it: planted links (file and folder), a
 * world-writable folder, folders and files of another user, hard links, a FIFO. The
 * process runs as root here (CI does), "another user" is nobody (65534).
 */
class LogFolderTest {
    static final int NOBODY = 65534;
    Path base;
    Path victim;

    @BeforeEach
    void setUp() throws IOException {
        base = Files.createTempDirectory("nw-logfolder");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx------"));
        victim = base.resolve("victim");
        Files.writeString(victim, "untouched\n");
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static LogFolder open(Path dir) {
        return LogFolder.open(dir, 0, Set.of(0));
    }

    static void write(LogFolder f, String name, String text) throws IOException {
        try (OutputStream o = f.append(name)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd));
    }

    static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void newFoldersAre0700AndNewFiles0600AndAppendsKeepEarlierLines() throws Exception {
        Path dir = base.resolve("a/b/data");
        LogFolder f = open(dir);
        assertEquals("rwx------", mode(base.resolve("a")));
        assertEquals("rwx------", mode(dir));
        write(f, "drop.log", "one\n");
        write(f, "drop.log", "two\n");
        assertEquals("rw-------", mode(dir.resolve("drop.log")));
        assertEquals("one\ntwo\n", Files.readString(dir.resolve("drop.log")));
        // an older run's world-readable file is closed to others when reopened
        Files.setPosixFilePermissions(dir.resolve("drop.log"), PosixFilePermissions.fromString("rw-r--r--"));
        write(f, "drop.log", "three\n");
        assertEquals("rw-------", mode(dir.resolve("drop.log")));
    }

    @Test
    void aPlantedFileLinkIsRefusedAndItsTargetUntouched() throws Exception {
        Path dir = Files.createDirectory(base.resolve("data"));
        Files.createSymbolicLink(dir.resolve("drop.log"), victim);
        LogFolder f = open(dir);
        LogFolder.Unsafe e = assertThrows(LogFolder.Unsafe.class, () -> write(f, "drop.log", "owned\n"));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertThrows(LogFolder.Unsafe.class, () -> f.checkFile(dir.resolve("drop.log")), "found at start-up too");
        // a dangling link (to a file that would be created) too
        Files.createSymbolicLink(dir.resolve("http.log"), base.resolve("created-by-root"));
        assertThrows(LogFolder.Unsafe.class, () -> write(f, "http.log", "owned\n"));
        assertFalse(Files.exists(base.resolve("created-by-root")));
        assertEquals("untouched\n", Files.readString(victim));
    }

    @Test
    void aFolderLinkOfAnotherUserIsRefused() throws Exception {
        Path real = Files.createDirectory(base.resolve("real"));
        Path link = base.resolve("data");
        Files.createSymbolicLink(link, real);
        sh("chown", "-h", NOBODY + ":" + NOBODY, link.toString());
        LogFolder.Unsafe e = assertThrows(LogFolder.Unsafe.class, () -> open(link));
        assertTrue(e.getMessage().contains("symbolic link owned by uid " + NOBODY), e.getMessage());
        // root's own link to a safe folder is followed
        Path own = base.resolve("own");
        Files.createSymbolicLink(own, real);
        write(open(own), "drop.log", "x\n");
        assertEquals("x\n", Files.readString(real.resolve("drop.log")));
    }

    @Test
    void aFolderOfAnotherUserIsRefusedOnThePathAndAsTheLogFolder() throws Exception {
        Path theirs = Files.createDirectory(base.resolve("theirs"));
        sh("chown", NOBODY + ":" + NOBODY, theirs.toString());
        LogFolder.Unsafe e = assertThrows(LogFolder.Unsafe.class, () -> open(theirs));
        assertTrue(e.getMessage().startsWith("log folder " + theirs + " is owned by uid " + NOBODY), e.getMessage());
        // a folder of root inside theirs: they can rename it away and put their own in its place
        Path inside = Files.createDirectory(theirs.resolve("data"));
        e = assertThrows(LogFolder.Unsafe.class, () -> open(inside));
        assertTrue(e.getMessage().startsWith(theirs + " is owned by uid " + NOBODY), e.getMessage());
        // the user who ran sudo may own the path
        write(LogFolder.open(inside, 0, LogFolder.trustedOwners(0, Integer.toString(NOBODY))), "drop.log", "x\n");
    }

    @Test
    void aWorldWritableFolderIsRefusedUnlessSticky() throws Exception {
        Path open = Files.createDirectory(base.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        LogFolder.Unsafe e = assertThrows(LogFolder.Unsafe.class, () -> open(open));
        assertTrue(e.getMessage().contains("writable by group or others (mode 0777)"), e.getMessage());
        e = assertThrows(LogFolder.Unsafe.class, () -> open(open.resolve("data")), "nor below it");
        assertFalse(Files.exists(open.resolve("data")), "nothing made under an unsafe folder");
        Path group = Files.createDirectory(base.resolve("group"));
        Files.setPosixFilePermissions(group, PosixFilePermissions.fromString("rwxrwx---"));
        assertThrows(LogFolder.Unsafe.class, () -> open(group));
        // like /tmp: sticky and world-writable is accepted; a folder made in it is root's and 0700
        Path sticky = Files.createDirectory(base.resolve("sticky"));
        sh("chmod", "1777", sticky.toString());
        LogFolder f = open(sticky.resolve("data"));
        write(f, "drop.log", "x\n");
        assertEquals("rwx------", mode(sticky.resolve("data")));
    }

    @Test
    void filesOfAnotherUserHardLinksAndFifosAreRefused() throws Exception {
        Path dir = Files.createDirectory(base.resolve("data"));
        LogFolder f = open(dir);
        Path theirs = Files.writeString(dir.resolve("drop.log"), "");
        sh("chown", NOBODY + ":" + NOBODY, theirs.toString());
        LogFolder.Unsafe e = assertThrows(LogFolder.Unsafe.class, () -> write(f, "drop.log", "x\n"));
        assertTrue(e.getMessage().contains("owned by uid " + NOBODY), e.getMessage());

        Files.createLink(dir.resolve("http.log"), victim);
        e = assertThrows(LogFolder.Unsafe.class, () -> write(f, "http.log", "x\n"));
        assertTrue(e.getMessage().contains("2 hard links"), e.getMessage());
        assertEquals("untouched\n", Files.readString(victim));

        sh("mkfifo", dir.resolve("dns.log").toString());
        e = assertThrows(LogFolder.Unsafe.class, () -> write(f, "dns.log", "x\n"), "refused without blocking on open");
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void escapedValuesKeepOneEventPerLine() {
        StringBuilder sb = new StringBuilder();
        LogFileSink.kv(sb, "path", "/a\"b\\c\nx=\"1\"\r\t\u001b[2J\u009b\u2028");
        assertEquals("path=\"/a\\\"b\\\\c\\nx=\\\"1\\\"\\r\\t\\x1b[2J\\u009b\\u2028\",", sb.toString());
        assertFalse(sb.toString().chars().anyMatch(c -> c < 0x20), sb.toString());
    }

    @Test
    void udpPacketsGoToUdpLogAsInTheOriginal() throws Exception {
        Path dir = base.resolve("data");
        dev.netwatcher.event.EventHeader h = new dev.netwatcher.event.EventHeader(1, 1, 0, 0, null);
        java.net.InetAddress a = java.net.InetAddress.getByName("198.18.0.1"), b = java.net.InetAddress.getByName("198.18.0.2");
        dev.netwatcher.event.Layers l = new dev.netwatcher.event.Layers(dev.netwatcher.event.Layers.TX, new long[] {1, 2, 3, 4}, 15);
        LogFileSink sink = new LogFileSink(dir);
        try {
            sink.accept(new dev.netwatcher.event.PacketEvent(h, new dev.netwatcher.event.Flow(2, 17, a, 5000, b, 53), "tx", l,
                    0, 0, 32, 2, 0, false, false, 0));
            sink.accept(new dev.netwatcher.event.PacketEvent(h, new dev.netwatcher.event.Flow(2, 6, a, 5001, b, 80), "tx", l,
                    1, 1, 100, 2, 0x18, false, false, 0));
        } finally {
            sink.close();
        }
        assertTrue(Files.readString(dir.resolve("udp.log")).startsWith("packet{") && Files.readString(dir.resolve("udp.log")).contains("sport=\"5000\""));
        assertEquals(1, Files.readString(dir.resolve("udp.log")).lines().count());
        assertTrue(Files.readString(dir.resolve("packets.log")).contains("sport=\"5001\""));
        assertEquals(1, Files.readString(dir.resolve("packets.log")).lines().count());
    }
}
