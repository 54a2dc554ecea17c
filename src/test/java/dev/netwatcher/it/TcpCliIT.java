package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.bpf.Cgroups;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -S -r -e -k -T --stack through the command line, as one user's run: --json, the log files,
 * --metrics with --metrics-labels cgroup, the exit summary; and two more runs beside it with -d
 * --daddr and -s --saddr. What the test makes: a connection from A (its client in a cgroup of the
 * test's own) whose segment nft drops in B until two retransmissions are dropped too, a knock on a
 * closed port, and five short connections to two ports over both families. Ground truth: nft's
 * counter, nstat's TcpRetransSegs in A and TcpOutRsts in B, the kernel's drop-reason numbers (BTF,
 * read by bpftool), and the connections the test opened.
 */
class TcpCliIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void tcpEventsMetricsLogsAndSummaryAsAUserRunsThem() throws Exception {
        Path cgroup = Cgroups.v2Root().resolve("nwtest-tcp-" + ProcessHandle.current().pid());
        Files.createDirectories(cgroup);
        Path logs = tmp.resolve("logs");
        try {
            listen(lab.b, false, 7005);
            for (int port : new int[] {7011, 7012}) listen(lab.b, true, port);
            listen(lab.b, false, 7011);
            try (NwProcess nw = NwProcess.start(tmp, "-S", "-r", "-e", "-k", "-T", "--stack", "--saddr", "198.18.0.0/15", "--json",
                    "--log-dir", logs.toString(), "--metrics", "127.0.0.1:0", "--metrics-labels", "cgroup");
                 NwProcess toB6 = NwProcess.start(tmp, "-S", "-d", "7011", "--daddr", Lab.B6 + "/128", "--json", "--no-logs");
                 NwProcess fromA4 = NwProcess.start(tmp, "-S", "-s", "40046", "--saddr", Lab.A4 + "/32", "--json", "--no-logs")) {
                long retransBefore = lab.nstat(lab.a, "TcpRetransSegs"), rstsBefore = lab.nstat(lab.b, "TcpOutRsts");

                // the client: a shell in A that the test moves into its cgroup, then execs socat (stdin is sent)
                Process client = lab.spawn(lab.a, "sh", "-c", "read go; exec socat -u - " + ProbesIT.target(false, 7005, 40030));
                Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(client.pid()));
                OutputStream in = client.getOutputStream();
                in.write("go\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
                for (int i = 0; i < 100 && !lab.inNs(lab.a, "ss", "-Htn", "state", "established", "sport = :40030").contains(":40030"); i++) {
                    Thread.sleep(20);
                }
                lab.nft(lab.b, "add table inet nwtest; add counter inet nwtest dropped; "
                        + "add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                        + "add rule inet nwtest input tcp dport 7005 counter name dropped drop");
                in.write("lost in transit\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
                for (int i = 0; i < 200 && lab.nftCounter(lab.b, "nwtest", "dropped") < 3; i++) Thread.sleep(25);
                long nftDropped = lab.nftCounter(lab.b, "nwtest", "dropped");
                lab.nft(lab.b, "delete table inet nwtest");
                assertTrue(nftDropped >= 3, "nft dropped the segment and two retransmissions: " + nftDropped);
                for (int i = 0; i < 200 && lab.inNs(lab.a, "ss", "-Htin", "sport = :40030").contains("unacked:"); i++) Thread.sleep(25);

                assertTrue(lab.tryInNs(lab.a, "socat", "-u", "-", ProbesIT.target(false, 7999, 40021)) != 0, "connection refused");
                String[][] short_ = {{"true", "7011", "40041"}, {"true", "7012", "40042"}, {"false", "7011", "40043"},
                        {"true", "7011", "40045"}, {"false", "7011", "40046"}};
                for (String[] c : short_) {
                    lab.inNs(lab.a, "sh", "-c", "echo x | socat -u - " + ProbesIT.target(Boolean.parseBoolean(c[0]), Integer.parseInt(c[1]),
                            Integer.parseInt(c[2])));
                }
                in.close(); // the client ends: FIN_WAIT1 and on
                assertTrue(client.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));

                // ground truth, then netwatcher's lines caught up with it
                long retransSegs = lab.nstat(lab.a, "TcpRetransSegs") - retransBefore;
                long rsts = lab.nstat(lab.b, "TcpOutRsts") - rstsBefore;
                long netnsA = lab.netns(lab.a), netnsB = lab.netns(lab.b);
                Predicate<JsonNode> ours = e -> e.get("sport").asInt() == 40030;
                nw.await("retrans", e -> e.get("netns").asLong() == netnsA, (int) retransSegs, WAIT);
                nw.await("drop", e -> ours.test(e) && e.get("reason").asText().equals("NETFILTER_DROP"),
                        (int) nftDropped, WAIT);
                nw.await("tcp_error", e -> e.get("kind").asText().equals("rst_sent") && e.get("netns").asLong() == netnsB, (int) rsts, WAIT);
                nw.await("tcp_state", e -> ours.test(e) && e.get("newstate").asText().equals("FIN_WAIT2"), 1, WAIT);
                toB6.await("tcp_state", e -> e.get("sport").asInt() == 40045 && e.get("newstate").asText().equals("CLOSE"), 1, WAIT);
                fromA4.await("tcp_state", e -> e.get("newstate").asText().equals("CLOSE"), 1, WAIT);
                String metrics = nw.metrics();
                assertEquals(143, nw.stop(), nw.summary());
                assertEquals(143, toB6.stop(), toB6.summary());
                assertEquals(143, fromA4.stop(), fromA4.summary());
                assertEquals(0, nw.lost());

                // -r: one line per segment A retransmitted (TcpRetransSegs), all of them the 16 bytes the test wrote
                List<JsonNode> retrans = nw.json("retrans", e -> e.get("netns").asLong() == netnsA);
                assertEquals(retransSegs, retrans.size(), "TcpRetransSegs of A: " + retrans);
                for (JsonNode r : retrans) {
                    assertTrue(ours.test(r), r.toString());
                    assertEquals("ESTABLISHED", r.get("state").asText());
                    assertEquals(16, r.get("len").asInt());
                }
                // -k -T --stack: each packet nft dropped, where and how; the knock's SYN, dropped for want of a socket
                List<JsonNode> filtered = nw.json("drop", e -> ours.test(e) && e.get("reason").asText().equals("NETFILTER_DROP"));
                assertEquals(nftDropped, filtered.size(), "nft's own counter: " + filtered);
                for (JsonNode d : filtered) {
                    assertEquals(reasonCode("NETFILTER_DROP"), d.get("reason_code").asInt(), d.toString());
                    // -T: the drop's caller as function+offset; --stack: the frames from the drop up, the caller among them
                    // (the kernel decides which netfilter function frees it: nf_hook_slow, nft_do_chain, ...)
                    String location = d.get("location").asText();
                    assertTrue(location.matches("[a-z_][a-z_0-9.]*\\+0x[0-9a-f]+"), "-T: function+offset: " + d);
                    List<String> stack = new java.util.ArrayList<>();
                    d.get("stack").forEach(f -> stack.add(f.asText()));
                    assertTrue(stack.contains(location) && stack.stream().anyMatch(f -> f.startsWith("nf_hook_slow+0x"))
                            && stack.stream().anyMatch(f -> f.startsWith("ip_local_deliver+0x")), "--stack: B's input path: " + d);
                    assertTrue(d.get("tcp_flags").asText().contains("P"), "the data segment (PSH): " + d);
                    assertEquals(netnsB, d.get("netns").asLong());
                }
                JsonNode knock = nw.json("drop", e -> e.get("sport").asInt() == 40021).getFirst();
                assertEquals("NO_SOCKET", knock.get("reason").asText());
                assertEquals(reasonCode("NO_SOCKET"), knock.get("reason_code").asInt(), knock.toString());
                assertEquals("S", knock.get("tcp_flags").asText());
                assertTrue(knock.get("location").asText().startsWith("tcp_v4_rcv+0x"), knock.toString());
                // -e: B's RSTs (TcpOutRsts), A's view of the knock's
                List<JsonNode> rstSent = nw.json("tcp_error", e -> e.get("kind").asText().equals("rst_sent") && e.get("netns").asLong() == netnsB);
                assertEquals(rsts, rstSent.size(), "TcpOutRsts of B: " + rstSent);
                assertEquals(1, nw.json("tcp_error", e -> e.get("kind").asText().equals("rst_recv") && e.get("sport").asInt() == 40021).size());
                JsonNode refused = nw.json("tcp_error", e -> e.get("kind").asText().equals("sock_error") && e.get("dport").asInt() == 7999).getFirst();
                assertEquals("ECONNREFUSED", refused.get("reason").asText());
                // -S: the connection's time in ESTABLISHED, which it entered after netwatcher started
                JsonNode finWait = nw.json("tcp_state", e -> ours.test(e) && e.get("newstate").asText().equals("FIN_WAIT1")).getFirst();
                assertEquals("ESTABLISHED", finWait.get("oldstate").asText());
                assertTrue(finWait.get("old_state_ns").asLong() > 100_000_000L, "it was established for the whole drop episode: " + finWait);

                // --metrics: the same counts, retransmissions labelled with the client's cgroup
                String cg = "cgroup=\"/" + cgroup.getFileName() + "\"";
                assertEquals(retransSegs, NwProcess.sum(metrics, "netwatcher_tcp_retransmits_total", "state=\"ESTABLISHED\"", cg), metrics);
                assertEquals(count(nw, "drop", e -> e.get("reason").asText().equals("NETFILTER_DROP")),
                        NwProcess.sum(metrics, "netwatcher_drops_total", "reason=\"NETFILTER_DROP\""), metrics);
                assertEquals(count(nw, "drop", e -> e.get("reason").asText().equals("NO_SOCKET")),
                        NwProcess.sum(metrics, "netwatcher_drops_total", "reason=\"NO_SOCKET\""), metrics);
                assertEquals(count(nw, "tcp_error", e -> e.get("kind").asText().equals("rst_sent")),
                        NwProcess.sum(metrics, "netwatcher_tcp_errors_total", "kind=\"rst_sent\""), metrics);
                assertEquals(count(nw, "tcp_error", e -> e.get("kind").asText().equals("sock_error")),
                        NwProcess.sum(metrics, "netwatcher_tcp_errors_total", "kind=\"sock_error\""), metrics);
                // --saddr 198.18.0.0/15 keeps A's four IPv4 connects (the client, the knock, 40043, 40046): CLOSE -> SYN_SENT
                assertEquals(4, count(nw, "tcp_state", e -> e.get("newstate").asText().equals("SYN_SENT")), "the test's IPv4 connects");
                assertEquals(4, NwProcess.sum(metrics, "netwatcher_tcp_state_transitions_total", "from=\"CLOSE\"", "to=\"SYN_SENT\""), metrics);
                assertEquals(count(nw, "tcp_state", e -> e.get("newstate").asText().equals("ESTABLISHED")),
                        NwProcess.sum(metrics, "netwatcher_tcp_state_transitions_total", "to=\"ESTABLISHED\""), metrics);
                assertEquals(0, NwProcess.sum(metrics, "netwatcher_events_missed_total"), "no hook hit missed: " + metrics);

                // the log files: one line per event of each type
                assertEquals(retrans.size(), Files.readAllLines(logs.resolve("retrans.log")).size());
                assertEquals(nw.json("drop", e -> true).size(), Files.readAllLines(logs.resolve("drop.log")).size());
                assertEquals(nw.json("tcp_error", e -> true).size(), Files.readAllLines(logs.resolve("err.log")).size());
                assertEquals(nw.json("tcp_state", e -> true).size(), Files.readAllLines(logs.resolve("tcpstate.log")).size());
                String where = filtered.getFirst().get("location").asText();
                assertTrue(Files.readString(logs.resolve("drop.log")).lines().anyMatch(l -> l.contains("location=\"" + where + "\"")
                        && l.contains("stack=\"") && l.contains(" nf_hook_slow+0x")), "the stack in drop.log");

                // the exit summary: drop reasons with their top stack, the retransmitting flow
                List<String> err = nw.stderr();
                int reasons = err.indexOf("  top drop reasons:");
                assertTrue(reasons > 0, nw.summary());
                assertTrue(err.stream().anyMatch(l -> l.matches(" +" + filtered.size() + "  NETFILTER_DROP")), nw.summary());
                assertTrue(err.stream().anyMatch(l -> l.matches(" +" + filtered.size() + "  \\S+ < .*") && l.contains(where.replaceFirst("\\+.*", ""))),
                        "its stack, with the dropping function: " + nw.summary());
                assertTrue(err.contains("  top retransmitting flows:"), nw.summary());
                assertTrue(err.stream().anyMatch(l -> l.matches(" +" + retransSegs + "  198\\.18\\.0\\.1:40030 > 198\\.18\\.0\\.2:7005")),
                        nw.summary());

                // -d 7011 --daddr B6: only the IPv6 connections to 7011 (40041, 40045), from both of their ends
                List<JsonNode> six = toB6.json("tcp_state", e -> true);
                assertFalse(six.isEmpty());
                for (JsonNode e : six) {
                    assertTrue(e.get("dport").asInt() == 7011 && e.get("daddr").asText().equals(Lab.B6), "-d 7011 --daddr " + Lab.B6 + ": " + e);
                }
                assertEquals(List.of(40041, 40045), six.stream().map(e -> e.get("sport").asInt()).distinct().sorted().toList());
                // -s 40046 --saddr A4: that one connection's client side
                List<JsonNode> four = fromA4.json("tcp_state", e -> true);
                List<String> states = four.stream().map(e -> e.get("newstate").asText()).toList();
                assertEquals(List.of("SYN_SENT", "ESTABLISHED"), states.subList(0, 2), four.toString());
                assertEquals("CLOSE", states.getLast(), four.toString());
                for (JsonNode e : four) assertEquals(Lab.A4 + ":40046", e.get("saddr").asText() + ":" + e.get("sport").asInt(), e.toString());
            }
        } finally {
            Lab.removeCgroup(cgroup);
        }
    }

    private static long count(NwProcess nw, String type, Predicate<JsonNode> p) throws Exception {
        return nw.json(type, p).size();
    }

    /** The kernel's number for a drop reason, from its BTF (enum skb_drop_reason), read by bpftool. */
    private static int reasonCode(String reason) {
        for (String l : Lab.run("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux").split("\n")) {
            if (l.contains("'SKB_DROP_REASON_" + reason + "' val=")) return Integer.parseInt(l.substring(l.indexOf("val=") + 4).trim());
        }
        throw new AssertionError("no SKB_DROP_REASON_" + reason + " in the kernel's BTF");
    }

    private void listen(String ns, boolean v6, int port) throws InterruptedException {
        lab.spawn(ns, "socat", "-u", (v6 ? "TCP6" : "TCP4") + "-LISTEN:" + port + ",reuseaddr,fork", "OPEN:/dev/null,wronly");
        lab.awaitListening(ns, "t", port);
    }
}
