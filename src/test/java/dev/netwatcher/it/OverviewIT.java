package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No option: the overview, as a user runs it (`netwatcher --json`), against what the test made in
 * namespace B: a connection accepted there before netwatcher started, one B opened while it ran,
 * the pids of the processes holding them, the bytes each side sent, and knocks on a closed port
 * counted by the kernel (TcpOutRsts).
 */
class OverviewIT extends LabTest {
    static final int OLD_BYTES = 10_000, NEW_BYTES = 20_000, REPLY = 3000, KNOCKS = 5;

    @Test
    void connectionsWithOwnerRoleAgeAndDropsAndErrorsSinceStart() throws Exception {
        CliIT.awaitClean("earlier tests");
        Process serverB = lab.spawnReady(lab.b, Lab.python("conn_peer.py", "server", 7201, 8));
        ConnIT.say(serverB, "accept");
        Process serverA = lab.spawnReady(lab.a, Lab.python("conn_peer.py", "server", 7202, 8));
        ConnIT.say(serverA, "accept");
        // open before netwatcher starts: B's side is the server, of unknown age
        Process old = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B4, 7201, 40101, OLD_BYTES));
        ConnIT.expect(old, "done");
        long rstsBefore = lab.nstat(lab.b, "TcpOutRsts");

        java.nio.file.Path logs = java.nio.file.Files.createTempDirectory(tmp, "nw-overview");
        Process p = CliIT.netwatcher("--json", "--log-dir", logs.toString(), "--duration", "5", "--netns",
                Long.toString(lab.netns(lab.b))).start();
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String first = err.readLine();
            assertTrue(first != null && first.startsWith("netwatcher: attached"), "stderr: " + first);
            // opened while it runs, by B: B's side is the client, born now
            Process fresh = lab.spawn(lab.b, Lab.python("conn_peer.py", "client", Lab.A4, 7202, 40102, NEW_BYTES));
            ConnIT.expect(fresh, "done");
            for (int i = 0; i < KNOCKS; i++) {
                assertTrue(lab.tryInNs(lab.a, "python3", "-c", "import socket\ntry: socket.create_connection(('"
                        + Lab.B4 + "', 7299), timeout=2)\nexcept ConnectionRefusedError: exit(0)\nexit(1)") == 0, "refused");
            }
            long rsts = lab.nstat(lab.b, "TcpOutRsts") - rstsBefore;
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(15, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "exit code");
            List<JsonNode> snaps = CliIT.jsonLines(out).stream().filter(n -> n.get("type").asText().equals("overview")).toList();
            assertTrue(snaps.size() >= 3, "one overview per second for 5 s: " + snaps.size());
            JsonNode last = snaps.getLast();

            JsonNode oldConn = row(last, 7201, 40101);
            assertEquals("server", oldConn.get("role").asText(), oldConn.toString());
            assertEquals(serverB.pid(), oldConn.get("pid").asLong(), "owner of the accepted socket: " + oldConn);
            assertEquals("python3", oldConn.get("comm").asText());
            assertEquals(OLD_BYTES, oldConn.get("bytes_received").asLong(), oldConn.toString());
            assertEquals(REPLY, oldConn.get("bytes_sent").asLong(), oldConn.toString());
            assertTrue(oldConn.get("age_at_least").asBoolean(), "open before the start: age is a lower bound " + oldConn);
            assertEquals("ESTABLISHED", oldConn.get("state").asText());

            JsonNode newConn = row(last, 40102, 7202);
            assertEquals("client", newConn.get("role").asText(), newConn.toString());
            assertEquals(fresh.pid(), newConn.get("pid").asLong(), "owner of the connecting socket: " + newConn);
            assertEquals(NEW_BYTES, newConn.get("bytes_sent").asLong(), newConn.toString());
            assertEquals(REPLY, newConn.get("bytes_received").asLong(), newConn.toString());
            assertFalse(newConn.get("age_at_least").asBoolean(), "seen opening: exact age " + newConn);
            assertTrue(newConn.get("age_ns").asLong() > 0 && newConn.get("age_ns").asLong() < 6_000_000_000L, newConn.toString());
            assertTrue(newConn.get("srtt_us").asLong() > 0 && newConn.get("cwnd").asLong() > 0, newConn.toString());

            JsonNode listener = null;
            for (JsonNode l : last.get("listeners")) if (l.get("sport").asInt() == 7201) listener = l;
            assertTrue(listener != null && listener.get("pid").asLong() == serverB.pid(), "listener 7201: " + last.get("listeners"));
            for (JsonNode c : last.get("connections")) assertTrue(c.get("netns").asLong() == lab.netns(lab.b), "--netns: " + c);

            // connect.log: the connection table of the last walk, one connection{...} line each, as the original wrote it
            List<String> table = java.nio.file.Files.readAllLines(logs.resolve("connect.log"));
            assertEquals(last.get("connections").size(), table.size(), "one line per live connection: " + table);
            assertTrue(table.stream().anyMatch(l -> l.startsWith("connection{") && l.contains("pid=\"" + serverB.pid() + "\"")
                    && l.contains("src=\"" + Lab.B4 + ":7201\"") && l.contains("role=\"server\"")), String.join("\n", table));
            assertTrue(java.nio.file.Files.readString(logs.resolve("drop.log")).contains("reason=\"NO_SOCKET\""), "drop.log");
            assertEquals(KNOCKS, rsts, "the kernel's own count of resets B sent");
            assertEquals(KNOCKS, sum(last.get("drops"), "NO_SOCKET"), "drops " + last.get("drops"));
            assertEquals(rsts, sum(last.get("tcp_errors"), "rst_sent"), "tcp errors " + last.get("tcp_errors"));
            // the last walk's sockets per state are what ss shows in B now (nothing in B changed since)
            Map<String, Long> ss = ConnIT.ssStates(lab, lab.b), walked = new java.util.HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = last.get("tcp_states").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().asLong() > 0) walked.put(e.getKey(), e.getValue().asLong());
            }
            assertEquals(ss, walked, "tcp_states against ss -tan in B");
            assertEquals(1L, walked.get("LISTEN"), "B's listener: " + walked);
        } finally {
            p.destroyForcibly();
        }
        CliIT.awaitClean("the overview");
    }

    /**
     * 300 connections into B: the overview's table, piped, holds the 50 busiest (each client sent i*10
     * bytes: rows 300 down to 251), then one line counts the other 250 per state; --json --top 10 has the
     * 10 busiest and the total; -x --top 5 prints 5 sockets per walk and a line for the others. Every
     * count is against ss in B.
     */
    @Test
    void manyConnectionsFitTheTableAndTheRestAreCounted() throws Exception {
        int n = 300;
        Process server = lab.spawnReady(lab.b, Lab.python("many_conns.py", "server", 7250));
        Process clients = lab.spawn(lab.a, Lab.python("many_conns.py", "client", Lab.B4, 7250, n));
        assertEquals("done", Lab.readLine(clients.getInputStream()));
        long established = 0;
        for (long t = System.nanoTime() + 5_000_000_000L; System.nanoTime() < t; Thread.sleep(100)) {
            established = lab.inNs(lab.b, "ss", "-Htn", "state", "established", "sport", "= :7250").lines().count();
            if (established == n) break;
        }
        assertEquals(n, established, "ss: B holds every connection");
        String netns = Long.toString(lab.netns(lab.b));
        try (dev.netwatcher.lab.NwProcess table = dev.netwatcher.lab.NwProcess.start(tmp, "--netns", netns, "--no-logs");
             dev.netwatcher.lab.NwProcess json = dev.netwatcher.lab.NwProcess.start(tmp, "--netns", netns, "--no-logs", "--json", "--top", "10");
             dev.netwatcher.lab.NwProcess extra = dev.netwatcher.lab.NwProcess.start(tmp, "-x", "--conn-every", "1", "--top", "5",
                     "--netns", netns, "--no-logs")) {
            Thread.sleep(2500);
            for (dev.netwatcher.lab.NwProcess p : List.of(table, json, extra)) assertEquals(143, p.stop(), p.summary());

            // the last table: 50 rows under the column header, then "... and 250 more connections: ESTABLISHED 250"
            List<String> lines = table.out().lines().toList();
            int header = -1;
            for (int i = 0; i < lines.size(); i++) if (lines.get(i).startsWith("PID ")) header = i;
            assertTrue(header >= 0, table.out());
            List<String> rows = new java.util.ArrayList<>();
            int at = header + 1;
            for (; at < lines.size() && !lines.get(at).startsWith("... and "); at++) rows.add(lines.get(at));
            assertEquals(50, rows.size(), "50 rows when the output is not a terminal: " + rows);
            assertEquals("... and " + (n - 50) + " more connections: ESTABLISHED " + (n - 50) + " (--top N shows more)", lines.get(at));
            java.util.Set<Long> received = new java.util.TreeSet<>();
            for (String r : rows) received.add(Long.parseLong(r.trim().split(" +")[10]));
            java.util.Set<Long> busiest = new java.util.TreeSet<>();
            for (int i = n - 49; i <= n; i++) busiest.add(i * 10L + 0);
            assertEquals(busiest, received, "the busiest first: what the last 50 clients sent");

            JsonNode last = json.json("overview", e -> true).getLast();
            assertEquals(10, last.get("connections").size());
            assertEquals(n, last.get("connections_total").asInt());
            assertEquals(n - 10, last.get("more_by_state").get("ESTABLISHED").asInt(), last.get("more_by_state").toString());
            assertEquals(n * 10, last.get("connections").get(0).get("bytes_received").asInt(), "the busiest first");

            // -x: each walk 5 tcp_conn snapshot lines, then the others (299 established and the listener) in one line
            String x = extra.out();
            assertTrue(x.contains("# ... and " + (n + 1 - 5) + " more sockets in this walk: ESTABLISHED " + (n - 5) + ", LISTEN 1"), x);
            long walks = x.lines().filter(l -> l.startsWith("# ... and ")).count();
            long snapshotLines = x.lines().filter(l -> l.contains(" tcp_conn ") && l.contains(":7250")).count();
            assertTrue(walks >= 2 && snapshotLines == 5 * walks, walks + " walks, " + snapshotLines + " lines");
        } finally {
            clients.destroyForcibly();
            server.destroyForcibly();
        }
    }

    /** The connection row with these local and remote ports. */
    static JsonNode row(JsonNode overview, int sport, int dport) {
        for (JsonNode c : overview.get("connections")) {
            if (c.get("sport").asInt() == sport && c.get("dport").asInt() == dport) return c;
        }
        throw new AssertionError("no connection " + sport + " -> " + dport + " in " + overview.get("connections"));
    }

    /** The counts whose key starts with prefix, added up. */
    static long sum(JsonNode counts, String prefix) {
        long n = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = counts.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith(prefix)) n += e.getValue().asLong();
        }
        return n;
    }
}
