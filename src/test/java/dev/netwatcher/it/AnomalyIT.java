package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -L as a person meets it (README, "Abnormal latency"). Steady UDP traffic of a known number of
 * datagrams: at most 0.1 % of them lead to a console warning line, unless the reader's own timestamps show
 * it was kept waiting, and then each line is no worse than what it saw (AnomalyFoldTest: what is left out).
 * Then the delays that matter, each packet that waited named by a latency_anomaly with its length (--json keeps every one):
 * a tbf qdisc added under a running flow (a layer the flow never crossed: judged against its whole
 * path), a burst through a tbf that was there from the start, a reader that stalls, and a netfilter
 * chain of 6,000 rules added under a running flow. What waited is read from the packets' own records
 * and checked against what the test did (tbf's rate, the reader's sleep, the chain's packets counted by nft).
 */
class AnomalyIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    // the remote side is in 198.18.0.0/24 for both A (sending) and B (receiving): the filter speaks of the local side
    private static final String[] WATCH = {"-u", "-n", "-L", "--daddr", "198.18.0.0/24", "--no-logs"};

    @Test
    void steadyTrafficStaysQuietAndEveryRealDelayIsNamed() throws Exception {
        String[] json = concat(WATCH, "--json");
        try (NwProcess all = NwProcess.start(tmp, json)) {
            // 1. steady: 3,000 datagrams of 100 bytes, read as they come; the console run sees only these
            int steady = 3000;
            try (NwProcess console = NwProcess.start(tmp, WATCH)) {
                Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7500, steady, "timed"));
                long slowestSendUs = Long.parseLong(lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40500, Lab.B4, 7500, steady, 100,
                        0.002, "timed")).strip());
                assertTrue(recv.waitFor(20, TimeUnit.SECONDS));
                assertEquals(Integer.toString(steady), Lab.readLine(recv.getInputStream()), "B read every datagram");
                String[] reads = Lab.readLine(recv.getInputStream()).split(" ");
                long lateReads = Long.parseLong(reads[0]), longestWaitUs = Long.parseLong(reads[1]);
                all.await("packet", flow(40500, "rx"), steady, WAIT);
                Thread.sleep(300); // the console run's last records
                assertEquals(143, console.stop(), console.summary());
                List<String> warnings = console.out().lines().filter(l -> l.contains(" WARNING ")).toList();
                long flagged = all.json("latency_anomaly", e -> e.get("sport").asInt() == 40500).size();
                String why = warnings.size() + " console warnings for " + steady + " datagrams (" + flagged + " anomalous layer times in "
                        + "--json); the reader saw " + lateReads + " reads more than 1 ms after arrival, the longest " + longestWaitUs
                        + " µs; the longest send call took " + slowestSendUs + " µs: " + String.join("\n", warnings);
                // A 2-vCPU guest keeps a reader waiting 1-16 ms now and then, more often with netwatcher beside it (reads later
                // than 1 ms, of 3,000: 0-19 alone, 2-59 with one or two runs; bench/reader-lateness.sh, BENCHMARKS). The console says nothing
                // on a reader that was not kept waiting; when it says more than 0.1 %, each line is true: the reader's own
                // timestamps (or the sender's send call) show a wait at least as long, and the reader was late often enough to persist.
                if (warnings.size() > steady / 1000) {
                    assertTrue(lateReads >= 10, "more than 0.1 % of the datagrams warned of, with the reader seldom late: " + why);
                    java.util.regex.Pattern said = java.util.regex.Pattern.compile(
                            "WARNING packet (\\S+) (\\S+): (?:[^,]*, worst )?([0-9.]+) (µs|ms|s)\\b");
                    for (String w : warnings) {
                        java.util.regex.Matcher m = said.matcher(w);
                        assertTrue(m.find(), "a warning line as the console writes it: " + w);
                        double us = Double.parseDouble(m.group(3)) * switch (m.group(4)) { case "ms" -> 1e3; case "s" -> 1e6; default -> 1; };
                        String where = m.group(1) + " " + m.group(2);
                        long truth = where.equals("rx socket") ? longestWaitUs : where.equals("tx transport") ? slowestSendUs : -1;
                        assertTrue(us <= truth, "a warning no longer than what the reader or sender saw (" + where + "): " + w + "; " + why);
                    }
                }
            }

            // 2. a tbf of 50 kbit/s added under a running flow: the qdisc layer is new to it (veth has no qdisc)
            Process recv2 = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7501, 65));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40501, Lab.B4, 7501, 60, 100, 0.01));
            lab.inNs(lab.a, "tc", "qdisc", "add", "dev", "veth0", "root", "tbf", "rate", "50kbit", "burst", "1600", "latency", "2s");
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40501, Lab.B4, 7501, 5, 1000, 0));
            assertTrue(recv2.waitFor(10, TimeUnit.SECONDS));
            assertEquals("65", Lab.readLine(recv2.getInputStream()));
            assertNamed(all, 40501, "tx", "qdisc", 5, 1000, 50_000_000L, 3);

            // 3. a burst through a tbf that was there before the flow began
            lab.inNs(lab.a, "tc", "qdisc", "replace", "dev", "veth0", "root", "tbf", "rate", "1mbit", "burst", "1540", "latency", "2s");
            Process recv3 = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7502, 65));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40502, Lab.B4, 7502, 60, 100, 0.01));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40502, Lab.B4, 7502, 5, 1000, 0));
            assertTrue(recv3.waitFor(10, TimeUnit.SECONDS));
            assertEquals("65", Lab.readLine(recv3.getInputStream()));
            assertNamed(all, 40502, "tx", "qdisc", 65, 1000, 2_000_000L, 3);
            lab.inNs(lab.a, "tc", "qdisc", "del", "dev", "veth0", "root");

            // 4. a reader that sleeps 50 ms before each of its last 5 reads
            Process recv4 = lab.spawnReady(lab.b, Lab.python("udp_stall_recv.py", Lab.B4, 7503, 60, 5, 0.05, "queued"));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40503, Lab.B4, 7503, 65, 100, 0.005));
            assertTrue(recv4.waitFor(10, TimeUnit.SECONDS));
            assertEquals("65", Lab.readLine(recv4.getInputStream()));
            assertNamed(all, 40503, "rx", "socket", 65, 100, 40_000_000L, 5);

            // 5. a chain of 6,000 rules (none matches) added to B's input under a running flow: about 90 µs on a hook
            // of 2-3 µs, 30-40x. (3,000 rules, 46-48 µs, were 20-22x: right at the noise floor's cap of 20x the flow's
            // mean, so a run whose flow averaged 2.4 µs instead of 2.2 named none of the 5; ci-repeat, twice in 8 runs)
            Process recv5 = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7504, 65));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40504, Lab.B4, 7504, 60, 100, 0.01));
            Path rules = tmp.resolve("chain.nft");
            StringBuilder nft = new StringBuilder("add table inet nwlong\nadd counter inet nwlong seen\n"
                    + "add chain inet nwlong input { type filter hook input priority 10; policy accept; }\n"
                    + "add rule inet nwlong input udp dport 7504 counter name seen\n");
            for (int i = 0; i < 6000; i++) nft.append("add rule inet nwlong input ip saddr 10.").append(i / 250).append('.').append(i % 250).append(".1 drop\n");
            Files.writeString(rules, nft);
            lab.inNs(lab.b, "nft", "-f", rules.toString());
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 40504, Lab.B4, 7504, 5, 100, 0.01));
            assertTrue(recv5.waitFor(10, TimeUnit.SECONDS));
            assertEquals("65", Lab.readLine(recv5.getInputStream()));
            assertEquals(5, lab.nftCounter(lab.b, "nwlong", "seen"), "the 5 datagrams went through the long chain");
            assertNamed(all, 40504, "rx", "LOCAL_IN", 65, 0, 0, 5);
            assertEquals(143, all.stop(), all.summary());
        }
    }

    /**
     * Every packet of sport whose record (one of records that cross layer) shows at least waitedNs in layer
     * (netfilter hooks: the last atLeast LOCAL_IN times of the flow) has a latency_anomaly of that layer with
     * its length; at least atLeast waited.
     */
    private static void assertNamed(NwProcess nw, int sport, String dir, String layer, int records, int len, long waitedNs, int atLeast)
            throws Exception {
        boolean hook = layer.equals(layer.toUpperCase());
        String type = hook ? "netfilter" : "packet", key = hook ? "hooks_ns" : "layers_ns";
        Predicate<JsonNode> ofFlow = e -> e.get("sport").asInt() == sport && e.get("dir").asText().equals(dir) && e.get(key).has(layer);
        List<JsonNode> seen = nw.await(type, ofFlow, records, WAIT);
        List<JsonNode> waited = hook ? seen.subList(seen.size() - atLeast, seen.size())
                : seen.stream().filter(e -> e.get("len").asInt() >= len && e.get(key).get(layer).asLong() >= waitedNs).toList();
        assertTrue(waited.size() >= atLeast, atLeast + " of the packets waited in " + layer + ": " + seen.subList(Math.max(0, seen.size() - 8), seen.size()));
        Thread.sleep(200); // an anomaly is judged with its record
        List<JsonNode> flagged = nw.json("latency_anomaly", e -> e.get("sport").asInt() == sport && e.get("dir").asText().equals(dir)
                && e.get("layer").asText().equals(layer) && e.get("source").asText().equals(type));
        for (JsonNode w : waited) {
            long ns = w.get(key).get(layer).asLong();
            assertTrue(flagged.stream().anyMatch(a -> a.get("value_ns").asLong() == ns && (hook || a.get("len").asInt() == w.get("len").asInt())),
                    dir + " " + layer + " of sport " + sport + ": " + ns + " ns not flagged: " + flagged + "; all " + waited);
        }
    }

    private static Predicate<JsonNode> flow(int sport, String dir) {
        return e -> e.get("sport").asInt() == sport && e.get("dir").asText().equals(dir);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
