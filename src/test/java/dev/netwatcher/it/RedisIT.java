package dev.netwatcher.it;

import dev.netwatcher.event.RedisEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PayloadProbe;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -R against a real redis-server the test starts in B, with redis-cli and a pipelining client in A:
 * SET and GET (IPv4), DEBUG SLEEP 0.2 (at least 200 ms), an unknown command (the server's error
 * text), PING over IPv6, and 100 INCRs in one write, each paired with its own reply in order (the
 * server's last answer is 100), on both sides.
 */
class RedisIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(8);

    @Test
    void commandsRepliesAndAPipelineOnBothSides() throws Exception {
        lab.spawn(lab.b, "redis-server", "--port", "6379", "--bind", "0.0.0.0 ::", "--save", "", "--appendonly", "no",
                "--protected-mode", "no", "--enable-debug-command", "yes", "--daemonize", "no");
        lab.awaitListening(lab.b, "t", 6379);
        Filter inA = new Filter(lab.netns(lab.a), 0, 0, null, null), inB = new Filter(lab.netns(lab.b), 0, 0, null, null);
        try (Collector a = new Collector(List.of(Probes.payload(PayloadProbe.REDIS)), inA);
             Collector b = new Collector(List.of(Probes.payload(PayloadProbe.REDIS)), inB)) {
            String[] cli = {"redis-cli", "-h", Lab.B4, "-p", "6379"};
            assertEquals("OK", lab.inNs(lab.a, concat(cli, "SET", "nw:key", "hello")).strip());
            assertEquals("hello", lab.inNs(lab.a, concat(cli, "GET", "nw:key")).strip());
            lab.inNs(lab.a, concat(cli, "DEBUG", "SLEEP", "0.2"));
            String unknown = lab.inNs(lab.a, concat(cli, "NOSUCHCMD", "x"));
            assertEquals("PONG", lab.inNs(lab.a, "redis-cli", "-h", Lab.B6, "-p", "6379", "PING").strip());
            assertEquals(":100", lab.inNs(lab.a, Lab.python("redis_pipeline.py", Lab.B4, 6379, 100)).strip(), "the server counted 100");

            RedisEvent set = a.await(RedisEvent.class, e -> e.command().equals("SET"), 1, WAIT).get(0);
            assertEquals("client", set.side());
            assertEquals("nw:key", set.key());
            assertEquals("simple", set.reply());
            assertEquals("bulk", a.await(RedisEvent.class, e -> e.command().equals("GET"), 1, WAIT).get(0).reply());
            RedisEvent sleep = a.await(RedisEvent.class, e -> e.command().equals("DEBUG"), 1, WAIT).get(0);
            assertTrue(sleep.latencyNs() >= 200_000_000L, "DEBUG SLEEP 0.2: " + sleep.latencyNs());
            RedisEvent err = a.await(RedisEvent.class, e -> e.command().equals("NOSUCHCMD"), 1, WAIT).get(0);
            assertEquals("error", err.reply());
            assertTrue(err.error() != null && unknown.contains(err.error().replaceFirst("^ERR ", "")), err.error() + " vs " + unknown);
            RedisEvent ping = a.await(RedisEvent.class, e -> e.command().equals("PING"), 1, WAIT).get(0);
            assertEquals(java.net.InetAddress.getByName(Lab.B6), ping.flow().daddr(), "over IPv6");

            List<RedisEvent> incr = a.await(RedisEvent.class, e -> e.command().equals("INCR"), 100, WAIT);
            incr = a.settle(RedisEvent.class, e -> e.command().equals("INCR"), Duration.ofMillis(300));
            assertEquals(100, incr.size(), "each pipelined command once");
            for (RedisEvent e : incr) {
                assertEquals("pipe", e.key());
                assertEquals("integer", e.reply());
            }
            for (int i = 1; i < incr.size(); i++) {
                assertTrue(incr.get(i).header().tsNs() >= incr.get(i - 1).header().tsNs(), "replies in order");
            }
            List<RedisEvent> served = b.await(RedisEvent.class, e -> e.command().equals("INCR"), 100, WAIT);
            served = b.settle(RedisEvent.class, e -> e.command().equals("INCR"), Duration.ofMillis(300));
            assertEquals(100, served.size(), "and on the server's side");
            assertTrue(served.stream().allMatch(e -> e.side().equals("server")));
            assertEquals(0, a.session().lost());
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
