package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -n and -I through the command line, two netwatchers on B's namespace at once: the second takes the
 * next free netfilter priorities inward (README, "Netfilter"), and both time the same packets. A
 * pings B 5 times through an nft rule that counts B's input: each echo request is one rx netfilter
 * line through LOCAL_IN (nft's counter), each reply one tx line through LOCAL_OUT and POST_ROUTING,
 * each echo one icmp line; --metrics counts them the same.
 */
class NetfilterCliIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void twoRunsShareTheHooksAndTimeEachPingThroughThem() throws Exception {
        int pings = 5;
        lab.nft(lab.b, "add table inet nwtest; add counter inet nwtest seen; "
                + "add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                + "add rule inet nwtest input ip protocol icmp counter name seen");
        String netnsB = Long.toString(lab.netns(lab.b));
        try (NwProcess first = NwProcess.start(tmp, "-n", "--netns", netnsB, "--json", "--no-logs", "--metrics", "127.0.0.1:0");
             NwProcess second = NwProcess.start(tmp, "-n", "-I", "--netns", netnsB, "--json", "--no-logs", "--metrics", "127.0.0.1:0")) {
            // each holds its own links (fdinfo: link_type netfilter, "prio"): the first the outermost priorities, the
            // second -n's next ones inward (and -I's own, elsewhere)
            Set<Integer> one = priorities(first.pid()), two = priorities(second.pid());
            assertEquals(Set.of(Integer.MIN_VALUE + 1, Integer.MAX_VALUE - 1), one, "the first run");
            assertTrue(two.containsAll(Set.of(Integer.MIN_VALUE + 2, Integer.MAX_VALUE - 2)) && two.stream().noneMatch(one::contains),
                    "the second run: " + two);

            lab.inNs(lab.a, "ping", "-c", Integer.toString(pings), "-i", "0.1", Lab.B4);
            assertEquals(pings, lab.nftCounter(lab.b, "nwtest", "seen"), "nft saw each echo request");

            for (NwProcess nw : List.of(first, second)) {
                List<JsonNode> in = nw.await("netfilter", e -> echo(e, "rx") && e.get("hooks_ns").has("LOCAL_IN"), pings, WAIT);
                List<JsonNode> out = nw.await("netfilter", e -> echo(e, "tx"), pings, WAIT);
                for (JsonNode e : in) {
                    assertTrue(e.get("hooks_ns").get("PRE_ROUTING").asLong() > 0 && e.get("hooks_ns").get("LOCAL_IN").asLong() > 0,
                            "an echo request's time in each input hook: " + e);
                    assertEquals(84, e.get("len").asInt(), "20 + 8 + ping's 56 bytes: " + e);
                }
                for (JsonNode e : out) {
                    assertTrue(e.get("hooks_ns").get("LOCAL_OUT").asLong() > 0 && e.get("hooks_ns").get("POST_ROUTING").asLong() > 0,
                            "a reply's time in each output hook: " + e);
                }
            }
            // -I: each echo once, its time in ICMP (request in -> reply out) within its time in B
            List<JsonNode> icmp = second.await("icmp", e -> e.get("daddr").asText().equals(Lab.B4), pings, WAIT);
            assertEquals(List.of(1, 2, 3, 4, 5), icmp.stream().map(e -> e.get("seq").asInt()).sorted().toList(), icmp.toString());
            for (JsonNode e : icmp) {
                assertTrue(e.get("icmp_ns").asLong() > 0 && e.get("icmp_ns").asLong() <= e.get("total_ns").asLong(), e.toString());
            }
            assertEquals(pings, NwProcess.sum(second.metrics(), "netwatcher_icmp_reply_latency_seconds_count"), second.metrics());
            // every family's packets (IPv6 neighbour discovery too): as many as the lines that went through the hook.
            // B may send a packet of its own while the test reads (a neighbour solicitation): the lines written
            // before the scrape are counted in it, and the scrape's count is written out within the next 20 ms poll
            List<String> hooks = List.of("LOCAL_IN", "LOCAL_OUT", "POST_ROUTING");
            java.util.Map<String, Integer> before = new java.util.HashMap<>(), after = new java.util.HashMap<>();
            for (String hook : hooks) before.put(hook, first.json("netfilter", e -> e.get("hooks_ns").has(hook)).size());
            String m = first.metrics();
            Thread.sleep(300);
            for (String hook : hooks) after.put(hook, first.json("netfilter", e -> e.get("hooks_ns").has(hook)).size());
            for (String hook : hooks) {
                double counted = NwProcess.sum(m, "netwatcher_netfilter_hook_latency_seconds_count", "hook=\"" + hook + "\"");
                assertTrue(before.get(hook) <= counted && counted <= after.get(hook),
                        hook + ": " + before.get(hook) + " lines before the scrape, " + after.get(hook) + " after, " + counted + " counted: " + m);
            }
            assertEquals(143, first.stop(), first.summary());
            assertEquals(143, second.stop(), second.summary());
            // exactly those, now that both stopped: nothing counted twice
            for (NwProcess nw : List.of(first, second)) {
                assertEquals(pings, nw.json("netfilter", e -> echo(e, "rx") && e.get("hooks_ns").has("LOCAL_IN")).size());
                assertEquals(pings, nw.json("netfilter", e -> echo(e, "tx")).size());
            }
            assertEquals(pings, second.json("icmp", e -> true).size());
        }
        CliIT.awaitClean("two -n runs");
    }

    /**
     * Namespaces made after netwatcher started get its netfilter hooks, and a deleted one is let go:
     * a netfilter link holds a reference on its namespace, so without unhooking, B (and the veth
     * from the host into it) would live on until netwatcher exits. The lab of this test is made
     * while -n runs; A pings B through an nft counter; then the lab is deleted and the host's end of a
     * veth into B must disappear while netwatcher still runs.
     */
    @Test
    void namespacesMadeLaterAreHookedAndLetGoWhenDeleted() throws Exception {
        lab.close();
        String hostEnd = "nwth" + ProcessHandle.current().pid();
        try (NwProcess nw = NwProcess.start(tmp, "-n", "--json", "--no-logs")) {
            int before = priorities(nw.pid(), true).size();
            java.util.regex.Matcher k = java.util.regex.Pattern.compile("netfilter hooks in (\\d+) network namespace").matcher(nw.attachedLine());
            assertTrue(k.find(), nw.attachedLine());
            int spaces = Integer.parseInt(k.group(1)), perSpace = before / spaces;
            assertTrue(perSpace > 0 && before == perSpace * spaces, before + " links in " + spaces + " namespaces");
            lab = Lab.create();
            Lab.run("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "vh", "netns", lab.b);
            // two more namespaces, each with the same hooks (Session.RESCAN_NS: within a second)
            long end = System.nanoTime() + WAIT.toNanos();
            while (priorities(nw.pid(), true).size() < before + 2 * perSpace && System.nanoTime() < end) Thread.sleep(100);
            assertEquals(before + 2 * perSpace, priorities(nw.pid(), true).size(), "links in A and B as in every namespace");
            lab.nft(lab.b, "add table inet nwtest; add counter inet nwtest seen; "
                    + "add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                    + "add rule inet nwtest input ip protocol icmp icmp type echo-request counter name seen");
            int pings = 4;
            lab.inNs(lab.a, "ping", "-c", Integer.toString(pings), "-i", "0.1", "-s", "111", Lab.B4);
            assertEquals(pings, lab.nftCounter(lab.b, "nwtest", "seen"), "nft saw each echo request");
            long netnsB = lab.netns(lab.b);
            List<JsonNode> in = nw.await("netfilter", e -> echo(e, "rx") && e.get("len").asInt() == 20 + 8 + 111
                    && e.get("netns").asLong() == netnsB && e.get("hooks_ns").has("LOCAL_IN"), pings, WAIT);
            assertEquals(pings, in.size(), in.toString());

            lab.close();
            end = System.nanoTime() + WAIT.toNanos();
            while (Lab.tryRun("ip", "link", "show", hostEnd) == 0 && System.nanoTime() < end) Thread.sleep(100);
            assertTrue(ProcessHandle.of(nw.pid()).map(ProcessHandle::isAlive).orElse(false), "netwatcher still runs");
            assertEquals(1, Lab.tryRun("ip", "link", "show", hostEnd), "B is freed while netwatcher runs: the host's end of its veth is gone");
            assertEquals(before, priorities(nw.pid(), true).size(), "the links of the deleted namespaces are closed");
            assertEquals(143, nw.stop(), nw.summary());
        } finally {
            Lab.tryRun("ip", "link", "del", hostEnd);
            lab.close(); // idempotent: cleanup() closes it again
        }
    }

    /** An IPv4 ICMP line between A and B in that direction (B receives requests, sends replies). */
    private static boolean echo(JsonNode e, String dir) {
        return e.get("family").asText().equals("ipv4") && e.get("proto").asText().equals("icmp") && e.get("dir").asText().equals(dir);
    }

    /** The priorities of the netfilter links a process holds (/proc/PID/fdinfo: "prio:"). */
    private static Set<Integer> priorities(long pid) throws Exception {
        return new TreeSet<>(priorities(pid, false));
    }

    /** The priority of each netfilter link a process holds, one entry per link. */
    private static List<Integer> priorities(long pid, boolean each) throws Exception {
        List<Integer> p = new java.util.ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fdinfo"))) {
            for (Path f : fds.toList()) {
                String info;
                try {
                    info = Files.readString(f);
                } catch (java.io.IOException closed) {
                    continue;
                }
                if (!info.contains("link_type:\tnetfilter")) continue;
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("prio:\\s*(-?\\d+)").matcher(info);
                if (m.find()) p.add(Integer.parseInt(m.group(1)));
            }
        }
        return p;
    }
}
