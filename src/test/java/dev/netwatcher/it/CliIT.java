package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netwatcher.cli.Main;
import dev.netwatcher.event.Event;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.probe.Session;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user runs it: JSON output, bad input, and a clean kernel after every way of exiting. */
class CliIT {
    static ProcessBuilder netwatcher(String... args) {
        return dev.netwatcher.lab.NwProcess.command(args);
    }

    /** netwatcher --json output, one node per line. */
    static List<JsonNode> jsonLines(String out) throws IOException {
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.split("\n")) if (!line.isBlank()) lines.add(m.readTree(line));
        return lines;
    }

    /** The port --metrics bound (given as 0: a free one), from the "attached" line among the stderr lines. */
    static int metricsPort(List<String> stderrLines) {
        return dev.netwatcher.lab.NwProcess.metricsPort(stderrLines.stream().filter(l -> l.startsWith("netwatcher: attached"))
                .findFirst().orElseThrow(() -> new AssertionError("no attached line in " + stderrLines)));
    }

    /** Programs named nw_* currently loaded in the kernel. */
    static long ourPrograms() {
        return Lab.run("bpftool", "prog", "show").lines().filter(l -> l.matches("^\\d+: .* name nw_.*")).count();
    }

    /** The programs of these BPF objects (bpf/NAME.bpf.c, from the jar), less fentry stand-ins (NAME_fN) this kernel does not need. */
    static long programsIn(String... objects) throws IOException {
        long n = 0;
        for (String o : objects) {
            try (java.io.InputStream in = CliIT.class.getResourceAsStream("/bpf/" + o + ".bpf.o");
                 dev.netwatcher.bpf.BpfObject obj = dev.netwatcher.bpf.BpfObject.open(o, in.readAllBytes())) {
                n += obj.programNames().stream().filter(name -> !name.matches(".*_f\\d+")).count();
            }
        }
        return n;
    }

    static long ourLinks() {
        // link lines name the program id; count links whose program is ours
        List<String> ids = Lab.run("bpftool", "prog", "show").lines().filter(l -> l.matches("^\\d+: .* name nw_.*"))
                .map(l -> l.substring(0, l.indexOf(':'))).toList();
        return Lab.run("bpftool", "link", "show").lines()
                .filter(l -> ids.stream().anyMatch(id -> l.contains("prog " + id + " ") || l.endsWith("prog " + id))).count();
    }

    /** The netfilter BPF links a process holds (its /proc/PID/fdinfo says link_type netfilter). */
    static long ownNetfilterLinks(long pid) throws java.io.IOException {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc", Long.toString(pid), "fdinfo"))) {
            return fds.filter(f -> {
                try {
                    return java.nio.file.Files.readString(f).contains("link_type:\tnetfilter");
                } catch (java.io.IOException closed) {
                    return false;
                }
            }).count();
        }
    }

    static long netfilterLinks() {
        return Lab.run("bpftool", "link", "show").lines().filter(l -> l.matches("^\\d+: (type 10|netfilter) .*")).count();
    }

    /** Waits (5 s at most) for a line starting with prefix among the lines a reader thread collects. */
    static void awaitLine(List<String> lines, String prefix) throws InterruptedException {
        for (int i = 0; i < 250 && lines.stream().noneMatch(l -> l.startsWith(prefix)); i++) Thread.sleep(20);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(prefix)), "a line " + prefix + "...: " + lines);
    }

    static void awaitClean(String how) throws InterruptedException {
        for (int i = 0; i < 100 && (ourPrograms() > 0 || ourLinks() > 0); i++) Thread.sleep(50);
        assertEquals(0, ourLinks(), "links left after " + how);
        assertEquals(0, ourPrograms(), "programs left after " + how);
    }

    /** Starts netwatcher and returns once it printed "attached" on stderr. */
    static Process startAttached(List<String> stderrLines, String... args) throws Exception {
        return startAttached(netwatcher(args).redirectOutput(ProcessBuilder.Redirect.DISCARD), stderrLines);
    }

    /** The same for a command made by the caller (its own stdout, a wrapper such as setpriv or sh). */
    static Process startAttached(ProcessBuilder pb, List<String> stderrLines) throws Exception {
        return startAttached(pb, stderrLines, false);
    }

    /** partly: a test that makes a probe fail on purpose (the others must still start). */
    static Process startAttached(ProcessBuilder pb, List<String> stderrLines, boolean partly) throws Exception {
        Process p = pb.start();
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
        // stderr is read on its own thread, so that a netwatcher that prints nothing cannot hold the test
        Thread.ofPlatform().daemon().start(() -> {
            try {
                String l;
                while ((l = err.readLine()) != null) {
                    stderrLines.add(l);
                    if (l.contains("attached")) attached.countDown();
                }
            } catch (IOException ignored) {
                // process gone
            }
        });
        if (!attached.await(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("netwatcher did not attach within 20 s: " + stderrLines);
        }
        List<String> half = stderrLines.stream().filter(l -> l.contains("unavailable:")).toList();
        if (!half.isEmpty() && !partly) { // this kernel has every hook: a probe that started only in part is a failure
            p.destroyForcibly();
            throw new AssertionError("netwatcher started only in part: " + half);
        }
        return p;
    }

    @Test
    void jsonLinesCarryTheDocumentedKeys(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        try (Lab lab = Lab.create()) {
            Path logs = Files.createTempDirectory(tmp, "nwlogs"); // removed by JUnit, also when the test fails
            Process p = netwatcher("-S", "-k", "-e", "-T", "--json", "--duration", "4", "--log-dir", logs.toString(),
                    "--netns", Long.toString(lab.netns(lab.a))).start();
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String first = err.readLine();
            assertTrue(first != null && first.startsWith("netwatcher: attached -S -k -e"), "stderr: " + first);
            lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":7999,sourceport=40050");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(15, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue());
            List<JsonNode> events = jsonLines(out);
            assertFalse(events.isEmpty(), "events on stdout");
            for (JsonNode e : events) {
                for (String key : new String[] {"type", "ts_ns", "saddr", "sport", "daddr", "dport", "family", "netns", "pid", "comm"})
                    assertTrue(e.has(key), key + " in " + e);
                assertEquals(lab.netns(lab.a), e.get("netns").asLong());
                long ageMs = System.currentTimeMillis() - e.get("ts_ns").asLong() / 1_000_000;
                assertTrue(ageMs >= 0 && ageMs < 60_000, "ts_ns is wall-clock time: " + e);
            }
            JsonNode syn = events.stream().filter(e -> e.get("type").asText().equals("tcp_state")
                    && e.get("newstate").asText().equals("SYN_SENT")).findFirst().orElseThrow();
            assertEquals("socat", syn.get("comm").asText());
            assertEquals("ipv4", syn.get("family").asText());
            assertEquals(7999, syn.get("dport").asInt());
            JsonNode rst = events.stream().filter(e -> e.get("type").asText().equals("tcp_error")
                    && e.get("kind").asText().equals("rst_recv")).findFirst().orElseThrow();
            assertEquals(Lab.B4, rst.get("daddr").asText());
            assertTrue(Files.readString(logs.resolve("tcpstate.log")).contains("newstate=\"SYN_SENT\""));
            assertTrue(Files.readString(logs.resolve("err.log")).contains("kind=\"rst_recv\""));
        }
    }

    @Test
    void badInputIsOneLineAndExitCodeTwo() {
        String[][] bad = {{"-s", "70000"}, {"-d", "abc"}, {"-S", "--duration", "-3"}, {"-S", "--duration", "0"},
                {"--frobnicate"}, {"-L", "-S"}, {"-t", "--anomaly-factor", "2"},
                {"-t", "-L", "--anomaly-factor", "-1"}, {"-t", "-L", "--interval", "x"}, {"-S", "--totals-every", "5"}, {"-T", "-S"}, {"-S", "--saddr", "300.1.2.3"}, {"-S", "--daddr", "fd00::/200"},
                {"-S", "--netns", "x"}, {"-S", "--no-logs", "--log-dir", "/tmp"}, {"--top", "0"}, {"-x", "--top", "x"}, {"-S", "--top", "5"},
                {"-S", "--metrics", "70000"}, {"-S", "--metrics", "localhost:"}, {"-S", "--metrics", "::1:9464"},
                {"-S", "--metrics", "x:y"}, {"-S", "--events"}, {"-S", "--bpf-stats"},
                {"-S", "--metrics", "9464", "--events", "--json"}, {"-S", "--ring-buffer-kb", "3"},
                {"-S", "--ring-buffer-kb", "100"}, {"-S", "--ring-buffer-kb", "lots"}, {"-S", "--conn-every", "5"},
                {"-x", "--conn-every", "0"}, {"--rtt", "--conn-every", "soon"}, {"-t", "--sample", "0"},
                {"-t", "--sample", "ten"}, {"-S", "--sample", "10"}};
        for (String[] args : bad) {
            StringWriter err = new StringWriter();
            int code = Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(err));
            String text = err.toString().strip();
            assertEquals(2, code, String.join(" ", args) + " -> " + text);
            assertEquals(1, text.lines().count(), "one line for " + String.join(" ", args) + ": " + text);
            assertTrue(text.startsWith("netwatcher: "), text);
            assertFalse(text.contains("Exception") || text.contains("\tat "), text);
        }
    }

    @Test
    void helpListsEveryOriginalOption() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(new String[] {"--help"}, new PrintWriter(out), new PrintWriter(new StringWriter())));
        for (String opt : new String[] {"-a, --all", "-d, --dport", "-e, --err", "-i, --http", "-I, --icmptime",
                "-k, --drop_reason", "-L, --timeload", "-n, --net_filter", "-r, --retrans", "-s, --sport",
                "-S, --tcpstate", "-t, --time", "-T, --addr_to_func", "-u, --udp", "-x, --extra", "--json", "--duration"})
            assertTrue(out.toString().contains(opt), opt);
    }

    @Test
    void nothingStaysAttachedAfterSigintSigtermSigkillOrDuration() throws Exception {
        awaitClean("earlier tests");
        for (String signal : new String[] {"INT", "TERM", "KILL"}) {
            List<String> stderr = new java.util.concurrent.CopyOnWriteArrayList<>();
            Process p = startAttached(stderr, "-S", "-r", "-k", "-e", "--no-logs");
            try {
                // each hook's program and its witness (nw_w_*), as the objects in the jar hold them
                long programs = programsIn("owner", "tcpstate", "retrans", "drop", "tcperr");
                assertEquals(programs, ourPrograms(), "all programs loaded while running");
                assertTrue(ourLinks() >= programs, "links while running");
                Lab.run("kill", "-" + signal, Long.toString(p.pid()));
                assertTrue(p.waitFor(10, TimeUnit.SECONDS), "exits on SIG" + signal);
                if (!signal.equals("KILL")) {
                    assertEquals(signal.equals("INT") ? 130 : 143, p.exitValue());
                    awaitLine(stderr, "netwatcher: detached;");
                }
            } finally {
                p.destroyForcibly();
            }
            awaitClean("SIG" + signal);
        }
        // --no-logs writes nothing: not even the default data/ folder in the working directory
        Path cwd = Files.createTempDirectory("nw-nologs");
        Process p = netwatcher("-S", "-k", "--no-logs", "--duration", "1").directory(cwd.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        try (java.util.stream.Stream<Path> left = Files.list(cwd)) {
            assertEquals(List.of(), left.toList(), "--no-logs wrote files");
        }
        Files.delete(cwd);
        awaitClean("--duration");
    }

    /** A script's background job starts with SIGINT ignored (`netwatcher ... & kill -INT $!`): it must still stop on it. */
    @Test
    void sigintStopsItAlsoWhenStartedWithSigintIgnored() throws Exception {
        awaitClean("earlier tests");
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "trap '' INT; exec \"$0\" \"$@\""));
        cmd.addAll(netwatcher("-S", "-k", "--no-logs").command());
        List<String> stderr = new java.util.concurrent.CopyOnWriteArrayList<>();
        Process p = startAttached(new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD), stderr);
        try {
            // the premise: what that wrapper execs starts with SIGINT (bit 1 of the mask) ignored
            String ign = Lab.run("sh", "-c", "trap '' INT; exec grep SigIgn /proc/self/status").trim();
            assertTrue((Long.parseUnsignedLong(ign.substring(7).trim(), 16) & 2) != 0, ign);
            Lab.run("kill", "-INT", Long.toString(p.pid()));
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "exits on SIGINT although it was started with SIGINT ignored");
            assertEquals(130, p.exitValue());
            awaitLine(stderr, "netwatcher: detached;");
        } finally {
            p.destroyForcibly();
        }
        awaitClean("SIGINT inherited as ignored");
    }

    @Test
    void latencyModesDetachTheirNetfilterLinksOnEveryExit() throws Exception {
        awaitClean("earlier tests");
        try (Lab lab = Lab.create()) {
            for (String signal : new String[] {"INT", "KILL"}) {
                List<String> stderr = new java.util.concurrent.CopyOnWriteArrayList<>();
                Process p = startAttached(stderr, "-t", "-u", "-I", "-n", "-L", "--no-logs");
                try {
                    String attached = stderr.stream().filter(l -> l.contains("netfilter hooks in")).findFirst().orElseThrow();
                    int namespaces = Integer.parseInt(attached.replaceAll(".*netfilter hooks in (\\d+) network namespace.*", "$1"));
                    assertTrue(namespaces >= 3, "ours and the lab's 2 namespaces: " + attached);
                    // its own links, not the machine's: 5 hooks x 2 families x 2 (-n) + LOCAL_OUT/LOCAL_IN x 2 families (-t -u -I)
                    assertEquals(24L * namespaces, ownNetfilterLinks(p.pid()), attached);
                    Lab.run("kill", "-" + signal, Long.toString(p.pid()));
                    assertTrue(p.waitFor(10, TimeUnit.SECONDS), "exits on SIG" + signal);
                } finally {
                    p.destroyForcibly();
                }
                awaitClean("-t -u -I -n after SIG" + signal);
                assertEquals(0, netfilterLinks());
            }
        }
    }

    /**
     * -L end to end: a UDP receiver reads a flow's first datagrams as they come (its baseline), then
     * sleeps 50 ms before each read; each datagram it kept waiting (and only those, by value) is a
     * latency_anomaly of the rx socket layer against the flow's baseline. Three more runs on the same
     * traffic move one threshold each: --anomaly-factor 100000 with --latency-threshold-us 30000 flags
     * the same 5 by the fixed threshold alone; --anomaly-sigmas 1000000 and --anomaly-floor-us 10s flag none.
     */
    @Test
    void latencyAnomalyFlagsEveryDatagramTheReaderKeptWaiting(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        try (Lab lab = Lab.create()) {
            // 5 stalls, each read 50 ms later than the last: a lasting shift becomes the baseline (README, "Abnormal
            // latency"): its threshold grows ~1.6x with each learned (clipped) sample, and under load, from a higher
            // baseline, a 10th stall was no longer far enough out (a ci-repeat run: 9 of 10); 5 stay far above it
            int warm = 40, stalled = 5;
            String netns = Long.toString(lab.netns(lab.b));
            String[][] runs = {{"--metrics", "127.0.0.1:0"}, {"--anomaly-factor", "100000", "--latency-threshold-us", "30000"},
                    {"--anomaly-sigmas", "1000000"}, {"--anomaly-floor-us", "10s"}};
            List<dev.netwatcher.lab.NwProcess> nws = new ArrayList<>();
            try {
                for (String[] more : runs) {
                    List<String> args = new ArrayList<>(List.of("-u", "-L", "--json", "--no-logs", "--anomaly-warmup", "20", "--netns", netns));
                    args.addAll(List.of(more));
                    nws.add(dev.netwatcher.lab.NwProcess.start(tmp, args.toArray(String[]::new)));
                }
                Process recv = lab.spawnReady(lab.b, Lab.python("udp_stall_recv.py", Lab.B4, 9060, warm, stalled, 0.05, "queued"));
                lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41060, Lab.B4, 9060, warm + stalled, 100, 0.005));
                assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
                assertEquals(Integer.toString(warm + stalled), Lab.readLine(recv.getInputStream()), "B read every datagram");
                // each record is made at the read: the last one is out once every run has it
                for (dev.netwatcher.lab.NwProcess nw : nws) {
                    nw.await("packet", e -> e.get("dir").asText().equals("rx") && e.get("sport").asInt() == 41060, warm + stalled,
                            java.time.Duration.ofSeconds(10));
                }
                Thread.sleep(200); // the anomaly of the last read is judged with its record
                String metrics = nws.get(0).metrics();
                for (dev.netwatcher.lab.NwProcess nw : nws) assertEquals(143, nw.stop(), nw.summary());

                dev.netwatcher.lab.NwProcess byDefault = nws.get(0);
                List<JsonNode> rx = byDefault.json("packet", e -> e.get("dir").asText().equals("rx") && e.get("sport").asInt() == 41060);
                assertEquals(warm + stalled, rx.size(), "an rx record per datagram read: " + byDefault.stderr());
                long waited = rx.stream().filter(e -> e.get("layers_ns").path("socket").asLong() >= 40_000_000L).count();
                assertEquals(stalled, waited, "the records show the stall on the socket layer: "
                        + rx.stream().map(e -> e.get("layers_ns").toString()).toList() + "; " + byDefault.stderr());
                java.util.function.Predicate<JsonNode> socket = e -> e.get("sport").asInt() == 41060 && e.get("dir").asText().equals("rx")
                        && e.get("layer").asText().equals("socket");
                List<JsonNode> anomalies = byDefault.json("latency_anomaly", socket);
                List<JsonNode> slow = anomalies.stream().filter(e -> e.get("value_ns").asLong() >= 40_000_000L).toList();
                assertEquals(stalled, slow.size(), "every datagram kept waiting, once: " + anomalies);
                for (JsonNode a : slow) {
                    assertEquals("flow", a.get("scope").asText(), a.toString());
                    assertTrue(a.get("value_ns").asLong() > a.get("threshold_ns").asLong()
                            && a.get("value_ns").asLong() >= 3 * a.get("baseline_ns").asLong(), a.toString());
                    // factor: value over baseline, as printed (one decimal); spread: the baseline's standard deviation
                    assertEquals(a.get("value_ns").asDouble() / a.get("baseline_ns").asDouble(), Double.parseDouble(a.get("factor").asText()),
                            0.05 + a.get("value_ns").asDouble() / a.get("baseline_ns").asDouble() * 1e-3, a.toString());
                    assertTrue(a.get("spread_ns").asLong() >= 0 && a.get("threshold_ns").asLong()
                            >= a.get("baseline_ns").asLong() + 6 * a.get("spread_ns").asLong() - 1, "mean + 6 sigmas at most: " + a);
                }
                // the first is judged against the prompt reads alone (the later ones learn the stall, clipped)
                JsonNode first = slow.stream().min(java.util.Comparator.comparingLong(a -> a.get("ts_ns").asLong())).orElseThrow();
                assertTrue(first.get("baseline_ns").asLong() < 5_000_000L && first.get("threshold_ns").asLong() < 40_000_000L, first.toString());
                // --metrics: every anomaly of the run, by source, direction and layer
                assertEquals(byDefault.json("latency_anomaly", e -> e.get("dir").asText().equals("rx") && e.get("layer").asText().equals("socket")).size(),
                        dev.netwatcher.lab.NwProcess.sum(metrics, "netwatcher_latency_anomalies_total", "source=\"packet\"", "dir=\"rx\"",
                                "layer=\"socket\""), metrics);

                // --anomaly-factor 100000 flags nothing by the baseline; --latency-threshold-us 30000 flags the 5 stalls
                List<JsonNode> fixed = nws.get(1).json("latency_anomaly", socket);
                assertEquals(stalled, fixed.size(), "the fixed threshold alone: " + fixed);
                for (JsonNode a : fixed) {
                    assertTrue(a.get("value_ns").asLong() >= 40_000_000L, a.toString());
                    assertEquals(30_000_000L, a.get("threshold_ns").asLong(), a.toString());
                }
                assertEquals(List.of(), nws.get(2).json("latency_anomaly", socket), "--anomaly-sigmas 1000000: nothing is that far out");
                assertEquals(List.of(), nws.get(3).json("latency_anomaly", socket), "--anomaly-floor-us 10s: nothing is that slow");
            } finally {
                for (dev.netwatcher.lab.NwProcess nw : nws) nw.close();
            }
        }
    }

    /**
     * -u -I -L with decimal --duration, --interval and --totals-every: every datagram B read is one packet
     * line, one time-load count and one flow-totals count, the exit summary's layer row counts them; a
     * run beside it with --sample 2 follows some of them and counts each twice, and says so.
     */
    @Test
    void packetJsonTimeLoadAndFlowTotals(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        try (Lab lab = Lab.create()) {
            int n = 40;
            String netns = Long.toString(lab.netns(lab.b));
            try (dev.netwatcher.lab.NwProcess p = dev.netwatcher.lab.NwProcess.start(tmp, "-u", "-I", "-L", "--json", "--no-logs",
                         "--duration", "4.5", "--interval", "0.5", "--totals-every", "1.5", "--netns", netns);
                 dev.netwatcher.lab.NwProcess sampled = dev.netwatcher.lab.NwProcess.start(tmp, "-u", "--sample", "2", "--json", "--no-logs",
                         "--duration", "4.5", "--netns", netns)) {
                assertTrue(p.attachedLine().startsWith("netwatcher: attached -u -I (netfilter hooks in 1 network namespace) for 4.5 s"),
                        p.attachedLine());
                assertTrue(sampled.attachedLine().startsWith("netwatcher: attached -u (following 1 packet in 2) (netfilter hooks in 1 network namespace) for 4.5 s"),
                        sampled.attachedLine());
                // -u's mark of the UDP send: fentry/udp_sendmsg or the cgroup sendmsg hooks, never a system call's
                // tracepoint (they slow every system call of every process: BENCHMARKS.md, "The UDP send mark")
                String perf = Lab.run("bpftool", "perf", "list"), links = Lab.run("bpftool", "link", "show");
                assertFalse(perf.contains("sys_enter"), perf);
                assertFalse(links.contains("tp 'sys_enter'"), links);
                Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 9050, n));
                lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41050, Lab.B4, 9050, n, 100, 0.01));
                lab.inNs(lab.a, "ping", "-c", "3", "-i", "0.1", Lab.B4);
                assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
                assertEquals(0, p.awaitExit(15), p.summary());
                double ran = (System.nanoTime() - p.attachedNanos()) / 1e9;
                assertTrue(ran > 4.3 && ran < 6.5, "--duration 4.5 stopped it after " + ran + " s");
                assertEquals(0, sampled.awaitExit(15), sampled.summary());

                java.util.function.Predicate<JsonNode> udpRx = e -> e.get("dir").asText().equals("rx") && e.get("proto").asText().equals("udp");
                List<JsonNode> rx = p.json("packet", udpRx);
                assertEquals(n, rx.size(), "one packet line per datagram B read");
                for (JsonNode e : rx) {
                    assertEquals(100, e.get("len").asInt());
                    JsonNode layers = e.get("layers_ns");
                    for (String l : new String[] {"driver", "ip", "transport", "socket"}) assertTrue(layers.get(l).asLong() > 0, l + " in " + e);
                    assertEquals(4, layers.size(), "no other layer: " + e);
                }
                assertEquals(3, p.json("icmp", e -> true).size(), "3 echo requests answered");
                long socketRows = p.json("time_load", e -> e.get("source").asText().equals("packet") && udpRx.test(e)
                        && e.get("layer").asText().equals("socket")).stream().mapToLong(e -> e.get("packets").asLong()).sum();
                assertEquals(n, socketRows, "the time-load tables count every datagram once");
                List<JsonNode> totals = p.json("flow_totals", e -> e.get("sport").asInt() == 9050);
                assertEquals(n, totals.getLast().get("rx_packets").asInt());
                assertEquals(100L * n, totals.getLast().get("rx_bytes").asLong());
                // --totals-every 1.5: a table each 1.5 s while flows are active, and one at the exit
                List<Long> ticks = p.json("flow_totals", e -> true).stream().map(e -> e.get("ts_ns").asLong()).distinct().sorted().toList();
                assertTrue(ticks.size() >= 2, "a table after 1.5 s and one at the exit at least: " + ticks);
                assertEquals(1.5, (ticks.get(1) - ticks.get(0)) / 1e9, 0.25, "--totals-every 1.5: " + ticks);
                // the exit summary's row of B's socket layer: every datagram, its percentiles in order
                String row = p.summaryRow("rx udp socket");
                String[] f = row.strip().split("\\s+");
                assertEquals(Integer.toString(n), f[3], row);
                double p50 = Double.parseDouble(f[4]), p90 = Double.parseDouble(f[5]), p99 = Double.parseDouble(f[6]), max = Double.parseDouble(f[7]);
                assertTrue(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max, row);

                // --sample 2: some of the datagrams, each counted twice in the totals and the summary, which says so
                List<JsonNode> some = sampled.json("packet", udpRx);
                assertTrue(some.size() > 0 && some.size() < n, "1 in 2 of " + n + ": " + some.size());
                assertEquals(2L * some.size(), sampled.json("flow_totals", e -> e.get("sport").asInt() == 9050).getLast().get("rx_packets").asLong());
                assertTrue(sampled.stderr().contains("netwatcher: summary (1 packet in 2 followed: packet counts are estimates, "
                        + "each sampled packet counted 2 times)"), sampled.summary());
                assertEquals(Integer.toString(2 * some.size()), sampled.summaryRow("rx udp socket").strip().split("\\s+")[3], sampled.summary());
            }
        }
    }

    /** Programs attached to the cgroup v2 root (where -i/--dns hook), by name. */
    static String cgroupPrograms() {
        return Lab.run("bpftool", "cgroup", "show", dev.netwatcher.bpf.Cgroups.v2Root().toString());
    }

    /**
     * -x -a -i --dns --rtt with --http-full-path and --metrics in A's namespace: curl (in a cgroup named
     * as the kubelet names a pod's container) fetches a page with a query, dig asks dnsmasq, and a
     * listener that never accepts holds two connections from B in its queue. Each line against curl's,
     * dig's and ss's own view.
     */
    @Test
    void connectionsHttpAndDnsThroughTheCli(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        awaitClean("earlier tests");
        String pod = "1b2c3d4e-0000-4111-8222-123456789abc", id = "fedcba9876543210".repeat(4);
        Path container = dev.netwatcher.bpf.Cgroups.v2Root().resolve("nwtest-kubepods-" + ProcessHandle.current().pid())
                .resolve("kubepods-besteffort-pod" + pod.replace('-', '_') + ".slice").resolve("cri-containerd-" + id + ".scope");
        try (Lab lab = Lab.create()) {
            Path logs = Files.createTempDirectory(tmp, "nwlogs"); // removed by JUnit, also when the test fails
            lab.spawnReady(lab.b, Lab.python("http_server.py", 8090));
            lab.spawn(lab.b, "/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                    "--listen-address=" + Lab.B4, "--port=53", "--pid-file=", "--user=root", "--address=/cli.nw.test/198.18.0.78");
            lab.awaitListening(lab.b, "u", 53);
            lab.spawnReady(lab.a, "python3", "-c", "import socket, time\ns = socket.socket(); s.bind(('" + Lab.A4 + "', 8097)); "
                    + "s.listen(7); print('ready', flush=True); time.sleep(60)");
            Files.createDirectories(container);
            try (dev.netwatcher.lab.NwProcess p = dev.netwatcher.lab.NwProcess.start(tmp, "-x", "-a", "-i", "--http-full-path", "--dns",
                    "--rtt", "--json", "--conn-every", "1", "--log-dir", logs.toString(), "--metrics", "127.0.0.1:0",
                    "--netns", Long.toString(lab.netns(lab.a)))) {
                assertTrue(p.attachedLine().startsWith("netwatcher: attached -x -a --rtt -i --dns"), p.attachedLine());
                assertTrue(cgroupPrograms().contains("nw_payload_in") && cgroupPrograms().contains("nw_payload_out"),
                        "cgroup hooks while running: " + cgroupPrograms());
                // two connections from B wait in the listener's accept queue
                for (int i = 0; i < 2; i++) lab.spawn(lab.b, "socat", "-u", "-", "TCP4:" + Lab.A4 + ":8097");
                for (int i = 0; i < 100 && !lab.inNs(lab.a, "ss", "-Hltn", "sport = :8097").matches("(?s)LISTEN\\s+2\\s+7.*"); i++) Thread.sleep(20);
                assertTrue(lab.inNs(lab.a, "ss", "-Hltn", "sport = :8097").matches("(?s)LISTEN\\s+2\\s+7.*"), "ss: Recv-Q 2, Send-Q 7");
                // curl in the pod's container; its own count of what it sent and received: the connection's bytes at its close
                Process curl = lab.spawn(lab.a, "sh", "-c", "read go; exec curl -s -o /dev/null -w '%{size_request} %{size_header} %{size_download}' "
                        + "'http://" + Lab.B4 + ":8090/search?q=netwatcher&page=2'");
                Files.writeString(container.resolve("cgroup.procs"), Long.toString(curl.pid()));
                curl.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
                curl.getOutputStream().flush();
                assertTrue(curl.waitFor(10, TimeUnit.SECONDS));
                String[] sizes = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split(" ");
                lab.inNs(lab.a, "dig", "+tries=1", "+time=2", "@" + Lab.B4, "cli.nw.test", "A");
                p.await("tcp_close", e -> e.get("dport").asInt() == 8090, 1, java.time.Duration.ofSeconds(10));
                // the walk after the connections settled: the listener, its two queued connections, curl's TIME_WAIT
                Thread.sleep(1200);
                String metrics = p.metrics();
                String ss = lab.inNs(lab.a, "ss", "-Htan");
                assertEquals(143, p.stop(), p.summary());

                java.util.function.Function<String, List<JsonNode>> of = t -> {
                    try {
                        return p.json(t, e -> true);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                };
                JsonNode http = of.apply("http").stream().filter(e -> e.get("side").asText().equals("client")).findFirst().orElseThrow();
                for (String k : new String[] {"method", "path", "host", "status", "reason", "latency_ns", "pid", "comm"}) assertTrue(http.has(k), k + " in " + http);
                assertEquals(404, http.get("status").asInt(), "the server knows only / and /slow");
                assertEquals("curl", http.get("comm").asText());
                assertEquals("/search?q=netwatcher&page=2", http.get("path").asText(), "--http-full-path keeps the query's values");
                // the owner's cgroup, as the kubelet names it: the pod's uid and the container's id
                assertEquals(pod, http.get("pod_uid").asText(), http.toString());
                assertEquals(id, http.get("container").asText(), http.toString());
                assertTrue(Files.readString(logs.resolve("http.log")).contains("pod_uid=\"" + pod + "\""), "http.log");
                JsonNode dns = of.apply("dns").stream().filter(e -> e.get("side").asText().equals("client")).findFirst().orElseThrow();
                assertEquals("cli.nw.test.", dns.get("name").asText());
                assertEquals("A 198.18.0.78", dns.get("answers").asText());
                assertEquals("NOERROR", dns.get("rcode").asText());
                JsonNode close = of.apply("tcp_close").stream().filter(e -> e.get("dport").asInt() == 8090).findFirst().orElseThrow();
                for (String k : new String[] {"last_state", "duration_ns", "bytes_sent", "bytes_acked", "bytes_received", "segs_out",
                        "segs_in", "retrans_total", "srtt_us", "sock"}) assertTrue(close.has(k), k + " in " + close);
                assertEquals(Long.parseLong(sizes[0]), close.get("bytes_sent").asLong(), "the request curl sent: " + close);
                // acked: the request, and the SYN and the FIN, which take a sequence number each (tcp_snd_una_update())
                assertEquals(Long.parseLong(sizes[0]) + 2, close.get("bytes_acked").asLong(), close.toString());
                // received: the response's header and body curl read, and the server's FIN (its sequence number, too)
                assertEquals(Long.parseLong(sizes[1]) + Long.parseLong(sizes[2]) + 1, close.get("bytes_received").asLong(), close.toString());
                assertEquals(0, close.get("retrans_total").asLong(), close.toString());
                JsonNode state = of.apply("tcp_conn").stream().filter(e -> e.get("reason").asText().equals("state")
                        && e.get("state").asText().equals("ESTABLISHED") && e.get("dport").asInt() == 8090).findFirst().orElseThrow();
                for (String k : new String[] {"oldstate", "ca_state", "snd_una", "snd_nxt", "rcv_nxt", "cwnd", "snd_wnd", "rcv_wnd",
                        "srtt_us", "rttvar_us", "mss", "rcv_space", "sndbuf", "sndbuf_used", "rcvbuf", "rcvbuf_used", "bytes_sent",
                        "bytes_acked", "bytes_received", "segs_out", "segs_in", "retrans_total", "retrans_fast", "retrans_rto",
                        "rto_timeouts", "sock"}) assertTrue(state.has(k), k + " in " + state);
                // the listener in the walk: its accept queue as ss showed it (Recv-Q 2, Send-Q 7)
                JsonNode listener = of.apply("tcp_conn").stream().filter(e -> e.get("state").asText().equals("LISTEN")
                        && e.get("sport").asInt() == 8097).reduce((a, b) -> b).orElseThrow();
                assertEquals(2, listener.get("backlog").asInt(), listener.toString());
                assertEquals(7, listener.get("backlog_max").asInt(), listener.toString());
                // a queued connection has had its RTT sample (the handshake's): min_rtt_us at most its smoothed RTT
                JsonNode queued = of.apply("tcp_conn").stream().filter(e -> e.get("state").asText().equals("ESTABLISHED")
                        && e.get("sport").asInt() == 8097).reduce((a, b) -> b).orElseThrow();
                assertTrue(queued.get("min_rtt_us").asLong() > 0 && queued.get("min_rtt_us").asLong() <= queued.get("srtt_us").asLong(),
                        queued.toString());
                JsonNode rtt = of.apply("rtt_histogram").stream().filter(e -> e.get("remote").asText().equals(Lab.B4)).reduce((a, b) -> b).orElseThrow();
                // a sample per ACK that measured the path (tcp_rtt_estimator()): the one connection to B, at most one per segment it got
                assertTrue(rtt.get("samples").asLong() >= 1 && rtt.get("samples").asLong() <= close.get("segs_in").asLong(),
                        rtt + " against " + close);
                assertTrue(p.json().stream().allMatch(e -> !e.has("netns") || e.get("netns").asLong() == lab.netns(lab.a)), "--netns filter");
                // --metrics: the last walk's sockets per state, as ss counts them in A
                for (String[] st : new String[][] {{"LISTEN", "LISTEN"}, {"ESTAB", "ESTABLISHED"}, {"TIME-WAIT", "TIME_WAIT"}}) {
                    long inSs = ss.lines().filter(l -> l.startsWith(st[0] + " ")).count();
                    assertEquals(inSs, Math.max(0, dev.netwatcher.lab.NwProcess.sum(metrics, "netwatcher_tcp_connections", "state=\"" + st[1] + "\"")),
                            st[1] + ": ss " + ss + "\n" + metrics);
                }
                assertTrue(p.summaryRow("http client").endsWith("4xx:1"), p.summary());
                assertTrue(p.summaryRow("dns client").endsWith("NOERROR:1"), p.summary());
                // the closed connections by their last state: curl's, the one the test made here
                assertEquals("closed connections: 1 (last state: FIN_WAIT2 1)", p.summaryRow("closed connections:").strip(), p.summary());
                String connectLog = Files.readString(logs.resolve("connect.log"));
                assertTrue(connectLog.startsWith("tcp_close{") && connectLog.contains("dport=\"8090\"") && connectLog.contains("last_state="),
                        connectLog);
            }
            awaitClean("a -x -a -i --dns --rtt run");
            assertFalse(cgroupPrograms().contains("nw_payload"), "cgroup hooks left: " + cgroupPrograms());
        } finally {
            for (Path dir = container; dir.getNameCount() > dev.netwatcher.bpf.Cgroups.v2Root().getNameCount(); dir = dir.getParent()) {
                if (Files.exists(dir)) Lab.removeCgroup(dir);
            }
        }
    }

    @Test
    void connectionAndPayloadHooksGoAwayOnSigkill() throws Exception {
        awaitClean("earlier tests");
        List<String> stderr = new java.util.concurrent.CopyOnWriteArrayList<>();
        Process p = startAttached(stderr, "-x", "-a", "-i", "--dns", "--rtt", "--no-logs");
        try {
            assertEquals(12, ourPrograms(), "4 connection programs, 2 cgroup programs and 6 socket-owner programs while running: " + stderr);
            Lab.run("kill", "-KILL", Long.toString(p.pid()));
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly(); // a failed assertion must not leave it attached for the tests after it
        }
        awaitClean("SIGKILL");
        assertFalse(cgroupPrograms().contains("nw_payload"), "cgroup hooks left: " + cgroupPrograms());
    }

    @Test
    void aCrashingConsumerDetachesEverything() throws Exception {
        awaitClean("earlier tests");
        Session s = Session.open(new Session.Config(List.of(Probes.TCP_STATE, Probes.DROP), Filter.NONE, false),
                (Event e) -> {
                    throw new IllegalStateException("consumer crashed");
                });
        try (Lab lab = Lab.create()) { // creating the lab makes traffic (ping), hence events
            lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":7999");
            assertThrows(IllegalStateException.class, () -> s.run(10_000_000_000L, () -> {}));
        } finally {
            s.close();
        }
        awaitClean("a consumer exception");
    }
}
