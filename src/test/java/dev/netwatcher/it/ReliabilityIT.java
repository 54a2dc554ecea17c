package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nothing lost silently, nothing left behind when start-up fails halfway, privileges named. */
class ReliabilityIT extends LabTest {
    private static final Pattern DETACHED = Pattern.compile("detached; (\\d+) events, (\\d+) lost");

    /**
     * A 16 KiB ring buffer and a consumer frozen with SIGSTOP while 2000 datagrams arrive:
     * most records cannot be delivered. Every datagram the application read must be either
     * a delivered rx event or a counted loss, and a warning must say so while running.
     */
    @Test
    void eventsLostInAFloodAreCountedExactly() throws Exception {
        int n = 2000;
        Path out = Files.createTempFile("nw-flood", ".jsonl");
        List<String> err = new CopyOnWriteArrayList<>();
        Process nw = CliIT.startAttached(CliIT.netwatcher("-u", "--json", "--no-logs", "--ring-buffer-kb", "16",
                "--netns", Long.toString(lab.netns(lab.b))).redirectOutput(out.toFile()), err);
        try {
            Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 9080, n));
            Lab.run("kill", "-STOP", Long.toString(nw.pid()));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41080, Lab.B4, 9080, n, 32, 0.0002));
            assertTrue(recv.waitFor(20, TimeUnit.SECONDS));
            int received = Integer.parseInt(Lab.readLine(recv.getInputStream()));
            Lab.run("kill", "-CONT", Long.toString(nw.pid()));
            for (int i = 0; i < 160 && err.stream().noneMatch(l -> l.contains("warning") && l.contains("events lost")); i++) Thread.sleep(50);
            assertTrue(err.stream().anyMatch(l -> l.contains("warning") && l.contains("events lost (ring buffer full)")),
                    "a warning while running: " + err);
            Lab.run("kill", "-TERM", Long.toString(nw.pid()));
            assertTrue(nw.waitFor(15, TimeUnit.SECONDS));
            for (int i = 0; i < 100 && err.stream().noneMatch(l -> l.contains("detached")); i++) Thread.sleep(50);

            ObjectMapper m = new ObjectMapper();
            long delivered = 0;
            for (String line : Files.readAllLines(out)) {
                JsonNode e = m.readTree(line);
                if (e.path("type").asText().equals("packet") && e.path("dir").asText().equals("rx")
                        && e.path("dport").asInt() == 9080) delivered++;
            }
            Matcher d = err.stream().map(DETACHED::matcher).filter(Matcher::find).findFirst()
                    .orElseThrow(() -> new AssertionError("no summary: " + err));
            long lost = Long.parseLong(d.group(2));
            assertTrue(received > n / 2, "datagrams read: " + received);
            assertTrue(lost > 0, "the flood overflowed a 16 KiB ring: " + err);
            System.out.println("flood: read " + received + ", delivered " + delivered + ", lost " + lost);
            assertEquals(received, delivered + lost, "delivered " + delivered + " + lost " + lost + " = read by the application");
        } finally {
            nw.destroyForcibly();
            Files.deleteIfExists(out);
        }
        CliIT.awaitClean("flood");
    }

    /**
     * -t fails halfway: its tracepoint programs are attached before its netfilter programs
     * find no namespace to hook (--netns names none). Those links and programs must go at
     * once, -S keeps running, and nothing is left after exit. Without -S nothing starts.
     */
    @Test
    void aProbeThatFailsHalfwayLeavesNothingAttached() throws Exception {
        CliIT.awaitClean("earlier tests");
        List<String> err = new CopyOnWriteArrayList<>();
        Process nw = CliIT.startAttached(CliIT.netwatcher("-S", "-t", "--no-logs", "--netns", "4294967295")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD), err, true);
        try {
            assertTrue(err.stream().anyMatch(l -> l.startsWith("netwatcher: unavailable: -t") && l.contains("not found")), "" + err);
            assertTrue(err.stream().anyMatch(l -> l.startsWith("netwatcher: attached -S")), "" + err);
            // the kernel frees a detached tracing program after an RCU grace period: give it a moment
            List<String> progs = List.of();
            for (int i = 0; i < 100; i++) {
                progs = Lab.run("bpftool", "prog", "show").lines().filter(l -> l.matches("^\\d+: .* name nw_.*")).toList();
                if (progs.size() <= 8) break;
                Thread.sleep(50);
            }
            assertEquals(8, progs.size(), "only -S's program, its witness and the 6 socket-owner programs are loaded: " + progs);
            assertTrue(progs.stream().allMatch(l -> l.contains(" name nw_tcp_state ") || l.contains(" name nw_w_tcp_state ")
                    || l.matches(".* name nw_own_\\w+ .*")), "" + progs);
            assertEquals(0, CliIT.netfilterLinks());
        } finally {
            Lab.run("kill", "-TERM", Long.toString(nw.pid()));
            assertTrue(nw.waitFor(15, TimeUnit.SECONDS));
        }
        CliIT.awaitClean("a failed start-up");

        Process alone = CliIT.netwatcher("-t", "--no-logs", "--netns", "4294967295")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String text = new String(alone.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(alone.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, alone.exitValue(), text);
        assertTrue(text.contains("no probe could start"), text);
        assertTrue(text.lines().noneMatch(l -> l.startsWith("\tat ")), "no stack trace: " + text);
        CliIT.awaitClean("no probe could start");
    }

    /** Root without capabilities (as in a locked-down container) is told which are missing, exit 1. */
    @Test
    void withoutPrivilegesTheMissingCapabilitiesAreNamed() throws Exception {
        // uid 0 still reads its own files (the class path under /root), but holds no capability
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"));
        cmd.addAll(CliIT.netwatcher("-S", "--no-logs", "--duration", "1").command());
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String text = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), text);
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.contains("CAP_BPF") && text.contains("CAP_PERFMON"), text);
    }
}
