package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -M through the command line (--mysql-port 3307, --mysql-slow-ms, --json, mysql.log, --metrics) against a real MariaDB server the test starts in B (a throwaway data directory), and the
 * mariadb client in A, over IPv4 and IPv6: SELECT SLEEP(0.3) must take at least 300 ms with a
 * one-column result set, a query on a table that does not exist must carry the server's error
 * code (1146) and message, SELECT 1, 2, 3 three columns, on both sides; with the slow-query
 * threshold at 200 ms only the SLEEP is reported.
 */
class MysqlIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void commandsTheirAnswersAndTimesOnBothSides() throws Exception {
        // in memory when there is a tmpfs: creating and shutting down a data directory is a burst of
        // fsyncs on the disk, which the tests after this one (timing, a Prometheus start) should not wait behind
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) ? Files.createTempDirectory(shm, "nw-mariadb") : Files.createTempDirectory("nw-mariadb");
        Process db = null;
        try {
            Lab.run("mariadb-install-db", "--no-defaults", "--auth-root-authentication-method=normal", "--user=root",
                    "--datadir=" + dir.resolve("data"));
            db = lab.spawn(lab.b, "mariadbd", "--no-defaults", "--datadir=" + dir.resolve("data"), "--socket=" + dir.resolve("sock"),
                    "--pid-file=" + dir.resolve("pid"), "--port=3307", "--user=root", "--skip-grant-tables",
                    "--skip-name-resolve", "--innodb-flush-method=fsync", "--log-error=" + dir.resolve("err.log"));
            for (int i = 0; i < 300 && !lab.inNs(lab.b, "ss", "-Hltn", "sport = :3307").contains(":3307"); i++) Thread.sleep(100);
            assertTrue(lab.inNs(lab.b, "ss", "-Hltn", "sport = :3307").contains(":3307"), "mariadbd listens");
            String netnsA = Long.toString(lab.netns(lab.a)), netnsB = Long.toString(lab.netns(lab.b));
            Path logs = tmp.resolve("logs");
            try (NwProcess a = NwProcess.start(tmp, "-M", "--mysql-port", "3307", "--netns", netnsA, "--json", "--log-dir", logs.toString(),
                         "--metrics", "127.0.0.1:0");
                 NwProcess b = NwProcess.start(tmp, "-M", "--mysql-port", "3307", "--netns", netnsB, "--json", "--no-logs");
                 NwProcess slow = NwProcess.start(tmp, "-M", "--mysql-port", "3307", "--mysql-slow-ms", "200", "--netns", netnsA,
                         "--json", "--no-logs")) {
                lab.inNs(lab.a, "mariadb", "--no-defaults", "--skip-ssl", "-h", Lab.B4, "-P", "3307", "-u", "root", "-e", "SELECT SLEEP(0.3)");
                String err = lab.inNs(lab.a, "sh", "-c", "mariadb --no-defaults --skip-ssl -h " + Lab.B4
                        + " -P 3307 -u root -e 'SELECT * FROM mysql.nosuch' 2>&1; true");
                assertTrue(err.contains("1146"), "the client's own view: " + err);
                lab.inNs(lab.a, "mariadb", "--no-defaults", "--skip-ssl", "-h", Lab.B6, "-P", "3307", "-u", "root", "-e", "SELECT 1, 2, 3");

                JsonNode sleep = query(a, "SELECT SLEEP(0.3)");
                assertEquals("client", sleep.get("side").asText());
                assertEquals("query", sleep.get("command").asText());
                assertEquals("result_set", sleep.get("outcome").asText());
                assertEquals(1, sleep.get("columns").asInt());
                assertTrue(sleep.get("latency_ns").asLong() >= 300_000_000L, "at least the 300 ms the server slept: " + sleep);
                assertEquals(3307, sleep.get("dport").asInt());
                assertEquals("mariadb", sleep.get("comm").asText(), sleep.toString());

                JsonNode missing = query(a, "SELECT * FROM mysql.nosuch");
                assertEquals("error", missing.get("outcome").asText());
                assertEquals(1146, missing.get("error_code").asInt());
                assertTrue(missing.path("error").asText().contains("nosuch"), missing.toString());
                assertTrue(err.contains(missing.get("error").asText()), "the message the client printed: " + err + " vs " + missing);

                JsonNode three = query(a, "SELECT 1, 2, 3");
                assertEquals(3, three.get("columns").asInt());
                assertEquals(Lab.B6, three.get("daddr").asText(), "over IPv6");
                assertEquals("ipv6", three.get("family").asText());

                for (JsonNode client : List.of(sleep, missing, three)) {
                    JsonNode s = query(b, client.get("query").asText());
                    assertEquals("server", s.get("side").asText());
                    assertEquals(client.get("outcome"), s.get("outcome"));
                    assertEquals(client.path("columns"), s.path("columns"));
                    assertEquals(client.get("sport"), s.get("sport"), "the same connection");
                    assertEquals("mariadbd", s.get("comm").asText(), "the server's own thread group: " + s);
                    assertTrue(s.get("latency_ns").asLong() <= client.get("latency_ns").asLong(), "the server's time is inside the client's");
                }
                // the client sends nothing else that is answered (a non-interactive mariadb -e): exactly these three
                List<String> queries = a.json("mysql", e -> true).stream().map(e -> e.path("query").asText()).sorted().toList();
                assertEquals(List.of("SELECT * FROM mysql.nosuch", "SELECT 1, 2, 3", "SELECT SLEEP(0.3)"), queries);

                // --metrics: the same three, by side, command and outcome; one latency observation each
                String m = a.metrics();
                assertEquals(2, NwProcess.sum(m, "netwatcher_mysql_commands_total", "side=\"client\"", "command=\"query\"",
                        "outcome=\"result_set\""), m);
                assertEquals(1, NwProcess.sum(m, "netwatcher_mysql_commands_total", "side=\"client\"", "outcome=\"error\""), m);
                assertEquals(3, NwProcess.sum(m, "netwatcher_mysql_latency_seconds_count", "side=\"client\""), m);
                double seconds = NwProcess.sum(m, "netwatcher_mysql_latency_seconds_sum", "side=\"client\"");
                assertTrue(seconds >= 0.3 && seconds < 2, "their times add up to the SLEEP's 0.3 s and a little: " + seconds);

                // --mysql-slow-ms 200: only the SLEEP
                assertEquals(143, slow.stop(), slow.summary());
                assertEquals(List.of("SELECT SLEEP(0.3)"), slow.json("mysql", e -> true).stream().map(e -> e.get("query").asText()).toList(),
                        "--mysql-slow-ms 200 keeps only the slow one");
                // mysql.log: one line per command, as the JSON said
                assertEquals(143, a.stop(), a.summary());
                List<String> log = Files.readAllLines(logs.resolve("mysql.log"));
                assertEquals(3, log.size(), log.toString());
                assertTrue(log.stream().anyMatch(l -> l.startsWith("mysql{") && l.contains("query=\"SELECT SLEEP(0.3)\"")
                        && l.contains("outcome=\"result_set\"")), log.toString());
                assertTrue(log.stream().anyMatch(l -> l.contains("error_code=\"1146\"")), log.toString());
                String row = a.summaryRow("mysql client");
                assertEquals("3", row.strip().split("\\s+")[2], row);
                assertTrue(row.endsWith("ERR 1146:1 result_set:2"), "the summary's answers: " + row);
            }
        } finally {
            if (db != null) { // before its files go: SIGTERM lets it shut down cleanly
                db.destroy();
                if (!db.waitFor(15, java.util.concurrent.TimeUnit.SECONDS)) db.destroyForcibly().waitFor();
            }
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** The one mysql line of this query (waiting for it). */
    private static JsonNode query(NwProcess nw, String q) throws Exception {
        return nw.await("mysql", e -> q.equals(e.path("query").asText()), 1, WAIT).get(0);
    }
}
