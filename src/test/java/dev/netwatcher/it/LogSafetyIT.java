package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * netwatcher as a local attacker would try it (issue: root can be made to append to any
 * file): a log folder with planted links, open to others or of another user; captured
 * text made of escape sequences, newlines and bytes that are not UTF-8, through the
 * console, JSON, log files and metrics; file modes under umask 000 and 022.
 */
class LogSafetyIT extends LabTest {
    static final int NOBODY = 65534;

    static Path tempFolder() throws IOException {
        Path d = Files.createTempDirectory("nw-logsafety");
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        return d;
    }

    static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** Runs netwatcher to its end; returns {exit code, stderr}. */
    static Object[] runToEnd(String... args) throws Exception {
        Process p = CliIT.netwatcher(args).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Object[] {p.exitValue(), err};
    }

    static void assertRefused(String why, String expected, String... args) throws Exception {
        Object[] r = runToEnd(args);
        String err = (String) r[1];
        assertEquals(1, r[0], why + ": " + err);
        assertEquals(1, err.lines().count(), why + ": one line: " + err);
        assertTrue(err.startsWith("netwatcher: ") && err.contains(expected), why + ": " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception"), err);
        CliIT.awaitClean(why);
    }

    @Test
    void anUnsafeLogFolderIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path base = tempFolder();
        try {
            Path victim = Files.writeString(base.resolve("victim"), "untouched\n");
            Path planted = Files.createDirectory(base.resolve("planted"));
            Files.createSymbolicLink(planted.resolve("drop.log"), victim);
            assertRefused("planted link", "log file " + planted.resolve("drop.log") + " is a symbolic link",
                    "-S", "-k", "--log-dir", planted.toString(), "--duration", "2");
            assertEquals("untouched\n", Files.readString(victim));

            Path open = Files.createDirectory(base.resolve("open"));
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
            assertRefused("world-writable folder", "writable by group or others (mode 0777)",
                    "-S", "--log-dir", open.toString(), "--duration", "2");

            Path theirs = Files.createDirectory(base.resolve("theirs"));
            Lab.run("chown", NOBODY + ":" + NOBODY, theirs.toString());
            assertRefused("another user's folder", "is owned by uid " + NOBODY,
                    "-S", "--log-dir", theirs.toString(), "--duration", "2");
            Path link = base.resolve("link");
            Files.createSymbolicLink(link, planted);
            Lab.run("chown", "-h", NOBODY + ":" + NOBODY, link.toString());
            assertRefused("another user's link to a folder", "symbolic link owned by uid " + NOBODY,
                    "-S", "--log-dir", link.toString(), "--duration", "2");
            assertRefused("a folder that cannot be made", "cannot create log folder /proc/nw",
                    "-S", "--log-dir", "/proc/nw/cannot", "--duration", "2");
        } finally {
            delete(base);
        }
    }

    @Test
    void logFilesAre0600InA0700FolderWhateverTheUmask() throws Exception {
        Path base = tempFolder();
        try {
            for (String umask : new String[] {"000", "022"}) {
                Path dir = base.resolve("logs-" + umask + "/data");
                List<String> cmd = new ArrayList<>(List.of("sh", "-c", "umask " + umask + "; exec \"$0\" \"$@\""));
                cmd.addAll(CliIT.netwatcher("-k", "--log-dir", dir.toString(), "--netns", Long.toString(lab.netns(lab.b)),
                        "--duration", "4").command());
                List<String> err = new CopyOnWriteArrayList<>();
                Process p = CliIT.startAttached(new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD), err);
                try {
                    // datagrams to a port nobody listens on: dropped in B (NO_SOCKET)
                    lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41090, Lab.B4, 9099, 5, 32, 0.01));
                    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                    assertEquals(0, p.exitValue(), "" + err);
                } finally {
                    p.destroyForcibly();
                }
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), "umask " + umask);
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.getParent())),
                        "missing parents are made 0700 too");
                Path drop = dir.resolve("drop.log");
                assertTrue(Files.exists(drop), "drops were logged: " + err);
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(drop)), "umask " + umask);
                assertTrue(Files.readString(drop).contains("NO_SOCKET"), Files.readString(drop));
            }
        } finally {
            delete(base);
        }
        CliIT.awaitClean("umask runs");
    }

    /** Strict UTF-8, and no control character but the line ends. */
    static String clean(byte[] bytes, String what) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError(what + " is not valid UTF-8", e);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            assertFalse((c < 0x20 && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0),
                    what + ": control character " + (int) c + " at " + i + " in: " + text);
        }
        assertFalse(text.contains("SECRET"), what + " carries a secret: " + text);
        return text;
    }

    void hostileClients() {
        assertEquals("ok", lab.inNs(lab.a, Lab.python("hostile.py", "http-client", Lab.B4, 8085)).strip());
        assertEquals("ok", lab.inNs(lab.a, Lab.python("hostile.py", "dns-client", Lab.B4, 53)).strip());
    }

    @Test
    void hostileTextReachesNoSinkRaw() throws Exception {
        lab.spawnReady(lab.b, Lab.python("hostile.py", "http-server", 8085));
        lab.spawnReady(lab.b, Lab.python("hostile.py", "dns-server", 53));
        Path logs = tempFolder();
        Path out = Files.createTempFile("nw-hostile", ".jsonl");
        try {
            // JSON, log files and metrics in one run
            List<String> err = new CopyOnWriteArrayList<>();
            Process p = CliIT.startAttached(CliIT.netwatcher("-i", "--dns", "--json", "--log-dir", logs.toString(), "--metrics",
                    "127.0.0.1:0", "--netns", Long.toString(lab.netns(lab.a))).redirectOutput(out.toFile()), err);
            int port = CliIT.metricsPort(err);
            String metrics;
            try {
                hostileClients();
                // the exchanges the clients made are out (one HTTP exchange, the DNS name last asked)
                for (int i = 0; i < 200 && !(Files.readString(out).contains("\"type\":\"http\"")
                        && Files.readString(out).contains("?[2J.a?b.??.test.")); i++) Thread.sleep(25);
                metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                Lab.run("kill", "-TERM", Long.toString(p.pid()));
                assertTrue(p.waitFor(15, TimeUnit.SECONDS));
            } finally {
                p.destroyForcibly();
            }
            String json = clean(Files.readAllBytes(out), "JSON output");
            List<JsonNode> events = CliIT.jsonLines(json);
            List<JsonNode> http = events.stream().filter(e -> e.path("type").asText().equals("http")).toList();
            List<JsonNode> dns = events.stream().filter(e -> e.path("type").asText().equals("dns")).toList();
            assertEquals(1, http.size(), json);
            JsonNode h = http.get(0);
            assertEquals("/a?[2J?31m??/b?token=\u2026&x=\u2026", h.get("path").asText(), "masked, query values hidden");
            assertEquals("ev?]0;pwned?il", h.get("host").asText());
            assertEquals("ev?il?x?", h.get("comm").asText(), "the task's own name, masked");
            assertFalse(dns.isEmpty(), json);
            assertTrue(dns.stream().anyMatch(d -> d.path("name").asText().equals("?[2J.a?b.??.test.")), json);
            for (JsonNode d : dns) assertTrue(d.path("name").asText().length() <= 260, "bounded: " + d);

            for (String[] f : new String[][] {{"http.log", "http"}, {"dns.log", "dns"}}) {
                String text = clean(Files.readAllBytes(logs.resolve(f[0])), f[0]);
                List<String> lines = text.lines().toList();
                assertEquals(f[1].equals("http") ? http.size() : dns.size(), lines.size(), "one line per event: " + text);
                for (String l : lines) assertTrue(l.matches("^" + f[1] + "\\{[a-z_.]+=\"([^\"\\\\]|\\\\.)*\"(,[a-z_.]+=\"([^\"\\\\]|\\\\.)*\")*}$"), l);
            }
            clean(metrics.getBytes(StandardCharsets.UTF_8), "metrics");
            assertFalse(metrics.contains("pwned") || metrics.contains("[2J"), "no captured text in metric labels");

            // the console, on its own
            Path consoleOut = Files.createTempFile("nw-hostile", ".txt");
            Process c = CliIT.startAttached(CliIT.netwatcher("-i", "--dns", "--no-logs", "--netns", Long.toString(lab.netns(lab.a)))
                    .redirectOutput(consoleOut.toFile()), new CopyOnWriteArrayList<>(), false);
            byte[] console;
            try {
                hostileClients();
                for (int i = 0; i < 200 && !(Files.readString(consoleOut, StandardCharsets.ISO_8859_1).contains("token=")
                        && Files.readString(consoleOut, StandardCharsets.ISO_8859_1).contains("test.")); i++) Thread.sleep(25);
                Lab.run("kill", "-TERM", Long.toString(c.pid()));
                assertTrue(c.waitFor(15, TimeUnit.SECONDS));
                console = Files.readAllBytes(consoleOut);
            } finally {
                c.destroyForcibly();
                Files.deleteIfExists(consoleOut);
            }
            String text = clean(console, "console");
            assertTrue(text.contains("ev?il?x?") && text.contains("/a?[2J?31m??/b?token=\u2026&x=\u2026"), text);
        } finally {
            Files.deleteIfExists(out);
            delete(logs);
        }
        CliIT.awaitClean("hostile payloads");
    }

    /**
     * The launcher's setpriv line (NW_SETPRIV in scripts/env.sh): every probe that walks or
     * links namespaces after start-up still works with only the listed capabilities, and
     * the running process holds exactly those, with no_new_privs.
     */
    @Test
    void theLauncherKeepsOnlyTheCapabilitiesNetwatcherUses() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", ". scripts/env.sh; exec setpriv \"${NW_SETPRIV[@]}\" -- \"$@\"", "nw"));
        cmd.addAll(CliIT.netwatcher("-S", "-t", "-n", "-x", "--rtt", "-i", "--dns", "--conn-every", "1", "--no-logs",
                "--duration", "4").command());
        List<String> err = new CopyOnWriteArrayList<>();
        Process p = CliIT.startAttached(new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD), err);
        try {
            assertTrue(err.stream().anyMatch(l -> l.contains("attached") && l.contains("network namespaces")), "attached: " + err);
            String status = Files.readString(Path.of("/proc/" + p.pid() + "/status"));
            // bpf 39, perfmon 38, syslog 34, sys_resource 24, sys_admin 21, sys_ptrace 19, net_admin 12,
            // net_bind_service 10, dac_read_search 2, dac_override 1
            long expected = (1L << 39) | (1L << 38) | (1L << 34) | (1L << 24) | (1L << 21) | (1L << 19) | (1L << 12)
                    | (1L << 10) | (1L << 2) | (1L << 1);
            // ... of those this machine grants at all (some sandboxes hold back sys_resource)
            String own = Files.readString(Path.of("/proc/self/status")).lines().filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow();
            expected &= Long.parseUnsignedLong(own.substring(7).trim(), 16);
            for (String set : new String[] {"CapEff", "CapPrm", "CapBnd"}) {
                String line = status.lines().filter(l -> l.startsWith(set + ":")).findFirst().orElseThrow();
                assertEquals(expected, Long.parseUnsignedLong(line.substring(set.length() + 1).trim(), 16), line);
            }
            assertTrue(status.lines().anyMatch(l -> l.matches("NoNewPrivs:\\s+1")), status);
            // the periodic socket walks enter every namespace again after start-up
            lab.tryInNs(lab.a, "curl", "-s", "-o", "/dev/null", "--max-time", "1", "http://" + Lab.B4 + ":9/"); // refused: a reset to see
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "" + err);
            assertTrue(err.stream().noneMatch(l -> l.contains("unavailable") || l.contains("warning") || l.contains("cannot")),
                    "nothing refused with the reduced capabilities: " + err);
        } finally {
            p.destroyForcibly();
        }
        CliIT.awaitClean("reduced capabilities");
    }
}
