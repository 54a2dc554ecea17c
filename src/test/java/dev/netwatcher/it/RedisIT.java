package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -R through the command line (--redis-port 6380, --json, redis.log, --metrics) against a real
 * redis-server the test starts in B, with redis-cli and a pipelining client in A: SET and GET (IPv4), DEBUG SLEEP 0.2 (at least 200 ms), an unknown command (the server's error
 * text), PING over IPv6, and 100 INCRs in one write, each paired with its own reply in order (the
 * server's last answer is 100), on both sides.
 */
class RedisIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(8);

    @Test
    void commandsRepliesAndAPipelineOnBothSides() throws Exception {
        lab.spawn(lab.b, "redis-server", "--port", "6380", "--bind", "0.0.0.0 ::", "--save", "", "--appendonly", "no",
                "--protected-mode", "no", "--enable-debug-command", "yes", "--daemonize", "no");
        lab.awaitListening(lab.b, "t", 6380);
        Path logs = tmp.resolve("logs");
        try (NwProcess a = NwProcess.start(tmp, "-R", "--redis-port", "6380", "--netns", Long.toString(lab.netns(lab.a)), "--json",
                     "--log-dir", logs.toString(), "--metrics", "127.0.0.1:0");
             NwProcess b = NwProcess.start(tmp, "-R", "--redis-port", "6380", "--netns", Long.toString(lab.netns(lab.b)), "--json",
                     "--no-logs")) {
            String[] cli = {"redis-cli", "-h", Lab.B4, "-p", "6380"};
            assertEquals("OK", lab.inNs(lab.a, concat(cli, "SET", "nw:key", "hello")).strip());
            assertEquals("hello", lab.inNs(lab.a, concat(cli, "GET", "nw:key")).strip());
            lab.inNs(lab.a, concat(cli, "DEBUG", "SLEEP", "0.2"));
            String unknown = lab.inNs(lab.a, concat(cli, "NOSUCHCMD", "x"));
            assertEquals("PONG", lab.inNs(lab.a, "redis-cli", "-h", Lab.B6, "-p", "6380", "PING").strip());
            assertEquals(":100", lab.inNs(lab.a, Lab.python("redis_pipeline.py", Lab.B4, 6380, 100)).strip(), "the server counted 100");

            JsonNode set = command(a, "SET", 1).get(0);
            assertEquals("client", set.get("side").asText());
            assertEquals("nw:key", set.get("key").asText());
            assertEquals("simple", set.get("reply").asText());
            assertEquals("redis-cli", set.get("comm").asText());
            assertEquals(6380, set.get("dport").asInt());
            assertEquals("bulk", command(a, "GET", 1).get(0).get("reply").asText());
            JsonNode sleep = command(a, "DEBUG", 1).get(0);
            assertTrue(sleep.get("latency_ns").asLong() >= 200_000_000L, "DEBUG SLEEP 0.2: " + sleep);
            JsonNode err = command(a, "NOSUCHCMD", 1).get(0);
            assertEquals("error", err.get("reply").asText());
            assertTrue(unknown.contains(err.get("error").asText().replaceFirst("^ERR ", "")), err + " vs " + unknown);
            JsonNode ping = command(a, "PING", 1).get(0);
            assertEquals(Lab.B6, ping.get("daddr").asText(), "over IPv6");

            List<JsonNode> incr = command(a, "INCR", 100);
            for (JsonNode e : incr) {
                assertEquals("pipe", e.get("key").asText());
                assertEquals("integer", e.get("reply").asText());
            }
            for (int i = 1; i < incr.size(); i++) {
                assertTrue(incr.get(i).get("ts_ns").asLong() >= incr.get(i - 1).get("ts_ns").asLong(), "replies in order");
            }
            List<JsonNode> served = command(b, "INCR", 100);
            assertTrue(served.stream().allMatch(e -> e.get("side").asText().equals("server") && e.get("comm").asText().startsWith("redis-server")),
                    served.toString());
            // the clients sent these 105 commands and nothing else that was answered
            assertEquals(105, a.json("redis", e -> true).size(), a.out());

            String m = a.metrics();
            assertEquals(100, NwProcess.sum(m, "netwatcher_redis_commands_total", "side=\"client\"", "reply=\"integer\""), m);
            assertEquals(1, NwProcess.sum(m, "netwatcher_redis_commands_total", "side=\"client\"", "reply=\"error\""), m);
            assertEquals(3, NwProcess.sum(m, "netwatcher_redis_commands_total", "side=\"client\"", "reply=\"simple\""), m); // SET, DEBUG, PING
            assertEquals(1, NwProcess.sum(m, "netwatcher_redis_commands_total", "side=\"client\"", "reply=\"bulk\""), m);
            assertEquals(105, NwProcess.sum(m, "netwatcher_redis_latency_seconds_count", "side=\"client\""), m);
            assertTrue(NwProcess.sum(m, "netwatcher_redis_latency_seconds_sum", "side=\"client\"") >= 0.2, m);

            // after the run: the INCRs exactly once each (no late duplicate), redis.log as the JSON, nothing lost
            assertEquals(143, a.stop(), a.summary());
            assertEquals(143, b.stop(), b.summary());
            assertEquals(100, command(a, "INCR", 100).size(), "each pipelined command once");
            assertEquals(100, command(b, "INCR", 100).size(), "and on the server's side");
            List<String> log = Files.readAllLines(logs.resolve("redis.log"));
            assertEquals(105, log.size(), log.toString());
            assertTrue(log.stream().anyMatch(l -> l.startsWith("redis{") && l.contains("command=\"SET\"") && l.contains("key=\"nw:key\"")),
                    log.toString());
            assertEquals(0, a.lost(), "nothing lost: " + a.stderr());
            // the exit summary's row: count, and the answers by reply type
            String row = a.summaryRow("redis client");
            assertEquals("105", row.strip().split("\\s+")[2], row);
            assertTrue(row.endsWith("bulk:1 error:1 integer:100 simple:3"), row);
        }
    }

    /** The client's (or server's) lines of this command, n at least. */
    private static List<JsonNode> command(NwProcess nw, String command, int n) throws Exception {
        return nw.await("redis", e -> command.equals(e.get("command").asText()), n, WAIT);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
