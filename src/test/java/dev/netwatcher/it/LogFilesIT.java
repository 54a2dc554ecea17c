package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log files README lists, end to end: one run with every event probe, traffic the test makes
 * for each event type, and every event printed as JSON must be one line of its file with the same
 * values (and nothing else in the folder); in a second run every console line's columns must match
 * its log line; --no-logs writes nothing, and the default folder is data/.
 */
class LogFilesIT extends LabTest {
    /** README's "Log files": event type to file (UDP packets go to udp.log). */
    static final Map<String, String> FILES = Map.ofEntries(
            Map.entry("tcp_state", "tcpstate.log"), Map.entry("retrans", "retrans.log"), Map.entry("drop", "drop.log"),
            Map.entry("tcp_error", "err.log"), Map.entry("packet", "packets.log"), Map.entry("udp_packet", "udp.log"),
            Map.entry("icmp", "icmp.log"), Map.entry("netfilter", "netfilter.log"), Map.entry("latency_anomaly", "anomaly.log"),
            Map.entry("tcp_close", "connect.log"), Map.entry("tcp_conn", "conn.log"), Map.entry("tcp_rtt", "rtt.log"),
            Map.entry("http", "http.log"), Map.entry("dns", "dns.log"));

    /** JSON keys a log line does not repeat: the type is its prefix, the family is in the address. */
    static final List<String> NOT_IN_LOG = List.of("type", "family");

    static final Pattern KV = Pattern.compile("([\\w.]+)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    /** A log line type{k="v",...} as its type and its keys in order. */
    record LogLine(String type, Map<String, String> kv) {
        static LogLine parse(String line) {
            int brace = line.indexOf('{');
            assertTrue(brace > 0 && line.endsWith("}"), "log line format: " + line);
            Map<String, String> kv = new LinkedHashMap<>();
            Matcher m = KV.matcher(line.substring(brace + 1, line.length() - 1));
            int end = 0;
            while (m.find()) {
                assertEquals(end, m.start(), "nothing between fields: " + line);
                kv.put(m.group(1), m.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
                end = m.end();
            }
            assertEquals(line.length() - brace - 2, end, "the whole line is fields: " + line);
            return new LogLine(line.substring(0, brace), kv);
        }
    }

    /** A JSON event as the log writes it: nested objects as key.sub, numbers and strings as text. */
    static Map<String, String> flat(JsonNode e) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (NOT_IN_LOG.contains(f.getKey()) || f.getValue().isNull()) continue; // null: no task, no port...
            if (f.getValue().isObject())
                f.getValue().fields().forEachRemaining(s -> out.put(f.getKey() + "." + s.getKey(), s.getValue().asText()));
            else out.put(f.getKey(), f.getValue().asText());
        }
        return out;
    }

    static String fileOf(JsonNode e) {
        String type = e.get("type").asText();
        return FILES.get(type.equals("packet") && e.path("proto").asText().equals("udp") ? "udp_packet" : type);
    }

    /**
     * netwatcher with every event probe on A's namespace, its stdout to out. With -x a connection's
     * periodic snapshot is a tcp_conn (conn.log), without it a tcp_rtt (rtt.log): one run has one of them.
     */
    Process start(Path logs, File out, List<String> stderr, boolean extra, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("-S", "-r", "-k", "-e", "-t", "-u", "-I", "-n", "-L", "-a",
                "--rtt", "-i", "--dns", "--anomaly-warmup", "20", "--conn-every", "1", "--log-dir", logs.toString(),
                "--netns", Long.toString(lab.netns(lab.a))));
        if (extra) args.add("-x");
        args.addAll(List.of(more));
        return CliIT.startAttached(CliIT.netwatcher(args.toArray(String[]::new)).redirectOutput(out), stderr);
    }

    /** B's HTTP and DNS servers. */
    void servers() throws Exception {
        lab.spawnReady(lab.b, Lab.python("http_server.py", 8095));
        lab.spawn(lab.b, "/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=" + Lab.B4, "--port=53", "--pid-file=", "--user=root", "--address=/logs.nw.test/198.18.0.79");
        lab.awaitListening(lab.b, "u", 53);
    }

    /** The files a run with or without -x writes. */
    static List<String> files(boolean extra) {
        return FILES.values().stream().filter(f -> !f.equals(extra ? "rtt.log" : "conn.log")).sorted().toList();
    }

    /**
     * Traffic for every event type A's namespace can show, then SIGTERM to netwatcher once the last
     * thing made (the long connection's close) is in connect.log.
     */
    void traffic(Process nw, Path logs, List<String> stderr) throws Exception {
        Path container = dev.netwatcher.bpf.Cgroups.v2Root().resolve("nwtest-logs-" + ProcessHandle.current().pid())
                .resolve("docker-" + CONTAINER_ID + ".scope");
        try {
            // two TCP readers in B: a slow one keeps a connection open across walks, the other gets a lossy one
            Process slow = lab.spawnReady(lab.b, Lab.python("tcp_slow_reader.py", Lab.B4, 9072, 2.5));
            Process lossy = lab.spawnReady(lab.b, Lab.python("tcp_slow_reader.py", Lab.B4, 9073, 0));
            Process stall = lab.spawnReady(lab.a, Lab.python("udp_stall_recv.py", Lab.A4, 9074, 30, 3, 0.05, "queued"));
            long retrans0 = lab.nstat(lab.a, "TcpRetransSegs");
            // a connection that lasts across walks (conn, rtt), closed at the end (tcpstate, connect)
            Process longConn = lab.spawn(lab.a, Lab.python("tcp_send.py", 41072, Lab.B4, 9072, 15, 1000, 0.1));
            // data segments B drops until one was dropped: A retransmits
            lab.nft(lab.b, "add table inet nwlogs; add counter inet nwlogs dropped; "
                    + "add chain inet nwlogs in { type filter hook input priority 0; }; "
                    + "add rule inet nwlogs in tcp dport 9073 meta length > 200 counter name dropped drop");
            Process lost = lab.spawn(lab.a, Lab.python("tcp_send.py", 41073, Lab.B4, 9073, 5, 1000, 0.02));
            for (int i = 0; i < 200 && lab.nftCounter(lab.b, "nwlogs", "dropped") == 0; i++) Thread.sleep(25);
            lab.nft(lab.b, "delete table inet nwlogs");
            assertTrue(lost.waitFor(10, TimeUnit.SECONDS));
            assertTrue(lossy.waitFor(10, TimeUnit.SECONDS));
            assertEquals("5000", Lab.readLine(lossy.getInputStream()), "B read all the lossy connection sent");
            assertTrue(lab.nstat(lab.a, "TcpRetransSegs") > retrans0, "A retransmitted");
            // UDP to B, and to A's reader that stalls its last reads (an anomaly)
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41074, Lab.B4, 9075, 5, 100, 0.01));
            lab.inNs(lab.b, Lab.python("udp_send.py", Lab.B4, 41075, Lab.A4, 9074, 33, 100, 0.005));
            assertTrue(stall.waitFor(10, TimeUnit.SECONDS));
            assertEquals("33", Lab.readLine(stall.getInputStream()));
            // B pings A: A answers (icmp), its requests and replies are packets
            lab.inNs(lab.b, "ping", "-c", "3", "-i", "0.2", Lab.A4);
            // a knock on B's closed port (A gets a reset), and on A's (A drops it)
            lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":7999");
            lab.tryInNs(lab.b, "socat", "-u", "-", "TCP4:" + Lab.A4 + ":7998");
            // the HTTP client in a cgroup named as docker names a container's (the console shows docker:ID); the
            // cgroup stays until netwatcher stopped: a path is looked up when a record is read, and a removed one has none
            Files.createDirectories(container);
            Process curl = lab.spawn(lab.a, "sh", "-c", "read go; exec curl -s -o /dev/null http://" + Lab.B4 + ":8095/");
            Files.writeString(container.resolve("cgroup.procs"), Long.toString(curl.pid()));
            curl.getOutputStream().write("go\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            curl.getOutputStream().flush();
            assertTrue(curl.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, curl.exitValue(), "curl got its page");
            lab.inNs(lab.a, "dig", "+tries=1", "+time=2", "@" + Lab.B4, "logs.nw.test", "A");
            assertTrue(longConn.waitFor(10, TimeUnit.SECONDS));
            assertTrue(slow.waitFor(10, TimeUnit.SECONDS));
            assertEquals("15000", Lab.readLine(slow.getInputStream()));
            for (int i = 0; i < 100 && !logHas(logs.resolve("connect.log"), "sport=\"41072\""); i++) Thread.sleep(50);
            Lab.run("kill", "-TERM", Long.toString(nw.pid()));
            assertTrue(nw.waitFor(10, TimeUnit.SECONDS));
            assertEquals(143, nw.exitValue(), "stderr: " + stderr);
        } finally {
            nw.destroyForcibly().waitFor();
            if (Files.exists(container)) Lab.removeCgroup(container);
            if (Files.exists(container.getParent())) Lab.removeCgroup(container.getParent());
        }
    }

    /** The 64-hex-digit id of the container cgroup the HTTP client runs in. */
    static final String CONTAINER_ID = "0123456789ab" + "cdef0123456789ab".repeat(3) + "cdef";

    /** A finished run: its log folder, its stdout, its stderr lines. */
    record Run(Path logs, File out, List<String> stderr) {}

    /** B's servers, netwatcher started (with -x: extra), the traffic, and netwatcher stopped. */
    Run run(boolean extra, String... more) throws Exception {
        Path logs = Files.createTempDirectory(tmp, "nwlogs");
        File out = File.createTempFile("nw-out", ".txt", tmp.toFile());
        servers();
        List<String> stderr = new CopyOnWriteArrayList<>();
        traffic(start(logs, out, stderr, extra, more), logs, stderr);
        return new Run(logs, out, stderr);
    }

    @Test
    void everyEventIsOneLineOfItsLogFile() throws Exception {
        Run r = run(false, "--json");
        Path logs = r.logs();
        File out = r.out();
        List<String> stderr = r.stderr();

        List<JsonNode> events = CliIT.jsonLines(Files.readString(out.toPath())).stream().filter(e -> fileOf(e) != null).toList();
        Map<String, List<JsonNode>> byFile = new HashMap<>();
        for (JsonNode e : events) byFile.computeIfAbsent(fileOf(e), k -> new ArrayList<>()).add(e);
        for (String file : files(false))
            assertTrue(byFile.containsKey(file), "no event for " + file + " in this run; stderr: " + stderr);
        try (Stream<Path> present = Files.list(logs)) {
            assertEquals(files(false), present.map(f -> f.getFileName().toString()).sorted().toList(),
                    "the log folder holds the listed files and nothing else");
        }
        for (Map.Entry<String, List<JsonNode>> f : byFile.entrySet()) {
            List<String> lines = Files.readAllLines(logs.resolve(f.getKey()));
            assertEquals(f.getValue().size(), lines.size(), f.getKey() + ": one line per event");
            // events of one file in the order they were written: JSON and log lines side by side
            for (int i = 0; i < lines.size(); i++) {
                JsonNode e = f.getValue().get(i);
                LogLine l = LogLine.parse(lines.get(i));
                assertEquals(e.get("type").asText(), l.type(), f.getKey() + " line " + (i + 1));
                assertEquals(flat(e), l.kv(), f.getKey() + " line " + (i + 1) + " against " + e);
            }
        }
        // what the test made, as the logs name it
        assertTrue(logHas(logs.resolve("retrans.log"), "sport=\"41073\""), "retrans.log names the lossy connection");
        assertTrue(logHas(logs.resolve("drop.log"), "reason=\"NO_SOCKET\""), "drop.log");
        assertTrue(logHas(logs.resolve("err.log"), "kind=\"rst_recv\""), "err.log");
        assertTrue(logHas(logs.resolve("udp.log"), "dport=\"9075\""), "udp.log");
        assertTrue(logHas(logs.resolve("anomaly.log"), "sport=\"41075\""), "anomaly.log");
        assertTrue(logHas(logs.resolve("rtt.log"), "sport=\"41072\""), "rtt.log");
        assertTrue(logHas(logs.resolve("http.log"), "status=\"200\""), "http.log");
        assertTrue(logHas(logs.resolve("dns.log"), "logs.nw.test."), "dns.log");
    }

    /** Log keys whose values each event type's console DETAIL shows (README, "What it shows" and the option sections). */
    static final Map<String, List<String>> DETAIL = Map.ofEntries(
            Map.entry("tcp_state", List.of("oldstate", "newstate")), Map.entry("retrans", List.of("seq", "len")),
            Map.entry("drop", List.of("reason", "location")), Map.entry("tcp_error", List.of("kind")),
            Map.entry("packet", List.of("dir", "len")), Map.entry("icmp", List.of()), Map.entry("netfilter", List.of("dir", "len")),
            Map.entry("latency_anomaly", List.of("dir", "layer")), Map.entry("tcp_conn", List.of("state")),
            Map.entry("tcp_close", List.of("last_state")), Map.entry("tcp_rtt", List.of()),
            Map.entry("http", List.of("method", "path", "status")), Map.entry("dns", List.of("name")));

    static final Pattern EVENT_LINE = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} .*");
    static final java.time.format.DateTimeFormatter TIME =
            java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(java.time.ZoneId.systemDefault());

    /** A log line's ts_ns as the console's TIME column shows it. */
    static String consoleTime(Map<String, String> kv) {
        return TIME.format(java.time.Instant.ofEpochSecond(0, Long.parseLong(kv.get("ts_ns"))));
    }

    /** SOURCE/DESTINATION as README says: addr:port, IPv6 in brackets, no port while there is none, "-" without an address. */
    static String endpoint(Map<String, String> kv, String addr, String port) {
        String a = kv.get(addr);
        if (a == null) return "-";
        if (a.contains(":")) a = "[" + a + "]";
        return kv.get(port).equals("0") ? a : a + ":" + kv.get(port);
    }

    /**
     * A console event line's ten columns. TIME, EVENT, NETNS and PID hold no space; COMM may
     * ("C2 CompilerThre"), so it is the 15 characters after PID's column (7 wide, or the pid's
     * length); CGROUP, PROTO, SOURCE and DESTINATION hold no space; DETAIL is the rest.
     */
    static String[] columns(String l) {
        String[] c = new String[10];
        int at = 0;
        for (int k = 0; k < 4; k++) {
            while (l.charAt(at) == ' ') at++;
            int end = l.indexOf(' ', at);
            c[k] = l.substring(at, end);
            at = k == 3 ? at + Math.max(7, c[k].length()) + 1 : end;
        }
        c[4] = l.substring(at, Math.min(l.length(), at + 15)).strip();
        String[] rest = l.substring(Math.min(l.length(), at + 15)).strip().split(" +", 5);
        System.arraycopy(rest, 0, c, 5, rest.length);
        if (rest.length < 5) c[9] = "";
        return c;
    }

    @Test
    void consoleColumnsMatchTheLogLines() throws Exception {
        Run r = run(true);
        Path logs = r.logs();
        File out = r.out();
        List<String> stderr = r.stderr();

        List<String> text = Files.readAllLines(out.toPath());
        assertTrue(text.stream().anyMatch(l -> l.matches("^TIME +EVENT +NETNS +PID +COMM +CGROUP +PROTO +SOURCE +DESTINATION +DETAIL$")),
                "the header: " + text.subList(0, Math.min(5, text.size())));
        Map<String, List<String[]>> console = new HashMap<>();
        for (String l : text) {
            if (!EVENT_LINE.matcher(l).matches()) continue; // header, legends, periodic reports
            String[] col = columns(l);
            String type = col[1];
            String file = FILES.get(type.equals("packet") && col[6].equals("udp") ? "udp_packet" : type);
            if (file != null) console.computeIfAbsent(file, k -> new ArrayList<>()).add(col);
        }
        int containerRows = 0;
        for (String file : files(true)) {
            List<String> lines = Files.readAllLines(logs.resolve(file));
            List<String[]> shown = console.getOrDefault(file, List.of());
            assertTrue(!lines.isEmpty(), "no event for " + file + " in this run; stderr: " + stderr);
            if (file.equals("anomaly.log")) {
                // the console shows an anomaly of a flow's layer once it is more than a blip, and folds the rest
                // (README, "Abnormal latency"); the log keeps every one: compare the shown lines with theirs, by time
                List<String[]> own = shown.stream().filter(c -> !c[9].contains(" more above ") && !c[9].contains(" packets above ")).toList();
                assertTrue(own.size() <= lines.size(), own.size() + " console lines for " + lines.size() + " in anomaly.log");
                // by time, direction and layer: one packet's anomalies in two layers share a time, and the console may fold one
                java.util.Set<String> keys = own.stream().map(c -> {
                    String[] w = c[9].split(" ", 5); // WARNING source dir layer: ...
                    return c[0] + " " + w[2] + " " + w[3].replace(":", "");
                }).collect(java.util.stream.Collectors.toSet());
                lines = lines.stream().filter(l -> {
                    Map<String, String> kv = LogLine.parse(l).kv();
                    return keys.contains(consoleTime(kv)
                            + " " + kv.get("dir") + " " + kv.get("layer"));
                }).toList();
                shown = own;
            }
            // paired by time and endpoints, ties in their order: -x's console shows a walk's snapshots busiest first
            // (BusiestSnapshots), the log in the walk's order
            lines = lines.stream().sorted(java.util.Comparator.comparing(l -> {
                Map<String, String> kv = LogLine.parse(l).kv();
                return consoleTime(kv) + " "
                        + endpoint(kv, "saddr", "sport") + " " + endpoint(kv, "daddr", "dport");
            })).toList();
            shown = shown.stream().sorted(java.util.Comparator.comparing(c -> c[0] + " " + c[7] + " " + c[8])).toList();
            assertEquals(lines.size(), shown.size(), file + ": a console line per log line");
            for (int i = 0; i < lines.size(); i++) {
                LogLine l = LogLine.parse(lines.get(i));
                Map<String, String> kv = l.kv();
                String[] c = shown.get(i);
                String where = file + " line " + (i + 1) + ": " + String.join(" | ", c) + " against " + lines.get(i);
                long ts = Long.parseLong(kv.get("ts_ns"));
                assertEquals(TIME.format(java.time.Instant.ofEpochSecond(0, ts)), c[0], "TIME " + where);
                assertEquals(l.type(), c[1], "EVENT " + where);
                assertEquals(kv.get("netns"), c[2], "NETNS " + where);
                assertEquals(kv.getOrDefault("pid", "-"), c[3], "PID " + where);
                assertEquals(kv.getOrDefault("comm", "-"), c[4], "COMM " + where);
                String cgroup = kv.get("cgroup");
                if (cgroup != null && cgroup.contains("docker-")) {
                    assertEquals(CONTAINER_ID, kv.get("container"), "the container id in the path " + where);
                    assertEquals("docker:0123456789ab", c[5], "CGROUP of a container " + where);
                    containerRows++;
                } else {
                    assertEquals(cgroup == null ? "-" : cgroup.length() <= 24 ? cgroup : "…" + cgroup.substring(cgroup.length() - 23),
                            c[5], "CGROUP " + where);
                }
                assertEquals(kv.getOrDefault("proto", "-"), c[6], "PROTO " + where);
                assertEquals(endpoint(kv, "saddr", "sport"), c[7], "SOURCE " + where);
                assertEquals(endpoint(kv, "daddr", "dport"), c[8], "DESTINATION " + where);
                String detail = c[9];
                assertTrue(!detail.isBlank(), "DETAIL " + where);
                for (String key : DETAIL.get(l.type()))
                    assertTrue(detail.contains(kv.get(key)), "DETAIL shows " + key + " " + where);
            }
        }
        assertTrue(logHas(logs.resolve("conn.log"), "sport=\"41072\""), "conn.log names the long connection");
        assertTrue(containerRows >= 2, "the HTTP client's lines (its exchange, its connection) show its container: " + containerRows + "\n" + Files.readString(logs.resolve("http.log")) + Files.readString(logs.resolve("tcpstate.log")));
    }

    static boolean logHas(Path file, String text) throws java.io.IOException {
        return Files.exists(file) && Files.readString(file).contains(text);
    }

    @Test
    void noLogsWritesNothingAndLogsGoToDataByDefault() throws Exception {
        for (boolean noLogs : new boolean[] {true, false}) {
            Path cwd = Files.createTempDirectory(tmp, "nwcwd");
            List<String> args = new ArrayList<>(List.of("-S", "--netns", Long.toString(lab.netns(lab.a))));
            if (noLogs) args.add("--no-logs");
            List<String> stderr = new CopyOnWriteArrayList<>();
            Process p = CliIT.startAttached(CliIT.netwatcher(args.toArray(String[]::new)).directory(cwd.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD), stderr);
            try {
                lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":7999"); // tcp_state events
                Lab.run("kill", "-TERM", Long.toString(p.pid()));
                assertTrue(p.waitFor(10, TimeUnit.SECONDS));
                assertTrue(stderr.stream().anyMatch(l -> l.contains("detached;") && !l.contains("detached; 0 events")),
                        "the run saw events: " + stderr);
            } finally {
                p.destroyForcibly();
            }
            try (Stream<Path> made = Files.walk(cwd)) {
                List<String> files = made.filter(f -> !f.equals(cwd)).map(f -> cwd.relativize(f).toString()).sorted().toList();
                assertEquals(noLogs ? List.of() : List.of("data", "data/tcpstate.log"), files, noLogs ? "--no-logs" : "the default folder");
            }
        }
    }
}
