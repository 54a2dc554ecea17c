package dev.netwatcher.it;

import dev.netwatcher.event.MysqlEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PayloadProbe;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -M against a real MariaDB server the test starts in B (a throwaway data directory), and the
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
                    "--pid-file=" + dir.resolve("pid"), "--port=3306", "--user=root", "--skip-grant-tables",
                    "--skip-name-resolve", "--innodb-flush-method=fsync", "--log-error=" + dir.resolve("err.log"));
            for (int i = 0; i < 300 && !lab.inNs(lab.b, "ss", "-Hltn", "sport = :3306").contains(":3306"); i++) Thread.sleep(100);
            assertTrue(lab.inNs(lab.b, "ss", "-Hltn", "sport = :3306").contains(":3306"), "mariadbd listens");
            Filter inA = new Filter(lab.netns(lab.a), 0, 0, null, null), inB = new Filter(lab.netns(lab.b), 0, 0, null, null);
            try (Collector a = new Collector(List.of(Probes.payload(PayloadProbe.MYSQL)), inA);
                 Collector b = new Collector(List.of(Probes.payload(PayloadProbe.MYSQL)), inB);
                 Collector slow = new Collector(List.of(Probes.payload(PayloadProbe.MYSQL).mysql(3306, 200_000_000L)), inA)) {
                lab.inNs(lab.a, "mariadb", "--no-defaults", "--skip-ssl", "-h", Lab.B4, "-P", "3306", "-u", "root", "-e", "SELECT SLEEP(0.3)");
                String err = lab.inNs(lab.a, "sh", "-c", "mariadb --no-defaults --skip-ssl -h " + Lab.B4
                        + " -P 3306 -u root -e 'SELECT * FROM mysql.nosuch' 2>&1; true");
                assertTrue(err.contains("1146"), "the client's own view: " + err);
                lab.inNs(lab.a, "mariadb", "--no-defaults", "--skip-ssl", "-h", Lab.B6, "-P", "3306", "-u", "root", "-e", "SELECT 1, 2, 3");

                MysqlEvent sleep = a.await(MysqlEvent.class, e -> "SELECT SLEEP(0.3)".equals(e.query()), 1, WAIT).get(0);
                assertEquals("client", sleep.side());
                assertEquals("query", sleep.command());
                assertEquals("result_set", sleep.outcome());
                assertEquals(1, sleep.columns());
                assertTrue(sleep.latencyNs() >= 300_000_000L, "at least the 300 ms the server slept: " + sleep.latencyNs());
                assertEquals(3306, sleep.flow().dport());

                MysqlEvent missing = a.await(MysqlEvent.class, e -> "SELECT * FROM mysql.nosuch".equals(e.query()), 1, WAIT).get(0);
                assertEquals("error", missing.outcome());
                assertEquals(1146, missing.errorCode());
                assertTrue(missing.error() != null && missing.error().contains("nosuch"), missing.toString());
                assertTrue(err.contains(missing.error()), "the message the client printed: " + err + " vs " + missing.error());

                MysqlEvent three = a.await(MysqlEvent.class, e -> "SELECT 1, 2, 3".equals(e.query()), 1, WAIT).get(0);
                assertEquals(3, three.columns());
                assertEquals(java.net.InetAddress.getByName(Lab.B6), three.flow().daddr(), "over IPv6");

                for (MysqlEvent client : List.of(sleep, missing, three)) {
                    MysqlEvent s = b.await(MysqlEvent.class, e -> client.query().equals(e.query()), 1, WAIT).get(0);
                    assertEquals("server", s.side());
                    assertEquals(client.outcome(), s.outcome());
                    assertEquals(client.columns(), s.columns());
                    assertEquals(client.flow().sport(), s.flow().sport(), "the same connection");
                    assertTrue(s.latencyNs() <= client.latencyNs(), "the server's time is inside the client's");
                }
                List<MysqlEvent> slowOnes = slow.settle(MysqlEvent.class, e -> true, Duration.ofMillis(500));
                assertEquals(List.of("SELECT SLEEP(0.3)"), slowOnes.stream().map(MysqlEvent::query).toList(),
                        "--mysql-slow-ms 200 keeps only the slow one");
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
}
