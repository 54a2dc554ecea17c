package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pcap-filter expression through the command line (issue 32): `-t -u --json EXPRESSION` over
 * traffic the test makes from A, IPv4 and IPv6, UDP to two ports and TCP connections; only the
 * packets the expression describes are reported, each of them (or counted as not seen at the
 * driver, the kernel's misses); a bad expression is libpcap's message, exit 2.
 */
class FilterExpressionIT extends LabTest {
    private static final Pattern UNFINISHED = Pattern.compile("(\\d+) packets that left LOCAL_OUT and were not seen at the driver");

    @Test
    void onlyThePacketsTheExpressionDescribesAreReported() throws Exception {
        String expr = "udp dst port 7002 or (tcp[tcpflags] & tcp-syn != 0)";
        String netnsA = Long.toString(lab.netns(lab.a));
        Process r1 = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7001, 5));
        Process r2 = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7002, 6));
        Process r3 = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B6, 7002, 4));
        Process server = lab.spawn(lab.b, "python3", "-c", "import socket\n"
                + "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" + Lab.B4 + "', 7003)); s.listen(8)\n"
                + "for _ in range(2):\n    c, _ = s.accept()\n    while c.recv(65536): pass\n    c.close()\n");
        try (NwProcess nw = NwProcess.start(tmp, "-t", "-u", "--json", "--no-logs", "--netns", netnsA, expr)) {
            lab.awaitListening(lab.b, "t", 7003);
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 7100, Lab.B4, 7001, 5, 100, 0.01));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 7101, Lab.B4, 7002, 6, 100, 0.01));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A6, 7102, Lab.B6, 7002, 4, 100, 0.01));
            for (int port : new int[] {7201, 7202}) lab.inNs(lab.a, Lab.python("tcp_send.py", port, Lab.B4, 7003, 3, 100, 0.01));
            for (Process p : List.of(r1, r2, r3)) assertTrue(p.waitFor(15, TimeUnit.SECONDS), "a receiver ended");
            assertEquals("5", Lab.readLine(r1.getInputStream()), "B got the datagrams to 7001");
            assertTrue(server.waitFor(15, TimeUnit.SECONDS), "the TCP server saw both connections end");
            Thread.sleep(300);
            nw.stop();

            List<JsonNode> packets = nw.json("packet", e -> true);
            List<JsonNode> udp = packets.stream().filter(e -> e.get("proto").asText().equals("udp")).toList();
            List<JsonNode> tcp = packets.stream().filter(e -> e.get("proto").asText().equals("tcp")).toList();
            // nothing the expression does not describe
            assertEquals(packets.size(), udp.size() + tcp.size(), packets.toString());
            for (JsonNode e : udp) {
                assertTrue(e.get("dir").asText().equals("tx") && e.get("dport").asInt() == 7002, "a datagram to 7002 from A: " + e);
            }
            for (JsonNode e : tcp) assertTrue(e.get("tcp_flags").asText().contains("S"), "a SYN or SYN-ACK: " + e);
            // all it describes: 6 + 4 datagrams and 2 SYNs leave A, 2 SYN-ACKs reach it
            long unfinished = counted(nw, UNFINISHED);
            List<JsonNode> synOut = tcp.stream().filter(e -> e.get("dir").asText().equals("tx")).toList();
            List<JsonNode> synAckIn = tcp.stream().filter(e -> e.get("dir").asText().equals("rx")).toList();
            assertEquals(6 + 4 + 2, udp.size() + synOut.size() + unfinished,
                    "tx records, or counted as not seen at the driver (" + unfinished + "): " + packets);
            long v6 = udp.stream().filter(e -> e.get("family").asText().equals("ipv6")).count();
            assertTrue(v6 <= 4 && v6 + unfinished >= 4, "the IPv6 datagrams: " + udp);
            assertEquals(2, synAckIn.size(), "the SYN-ACKs: " + tcp);
            assertTrue(synAckIn.stream().allMatch(e -> e.get("tcp_flags").asText().equals("S.")), synAckIn.toString());
        } finally {
            for (Process p : List.of(r1, r2, r3, server)) p.destroyForcibly();
        }
    }

    /**
     * -k and -n read the expression too: datagrams from A to two closed ports of B are dropped there
     * (no socket), pings from A cross B's netfilter hooks; with 'udp dst port 7302 or icmp[icmptype] ==
     * icmp-echo' only the drops of the datagrams to 7302 (or drops the kernel ran no program for, its
     * "missed" count) and only the netfilter lines of those datagrams and of the echo requests (not of
     * the datagrams to 7301, nor of the replies and port-unreachables B sends) are reported.
     */
    @Test
    void dropsAndNetfilterLinesObeyTheExpression() throws Exception {
        String netnsB = Long.toString(lab.netns(lab.b));
        int sent = 8, pings = 4;
        try (NwProcess nw = NwProcess.start(tmp, "-k", "-n", "--json", "--no-logs", "--netns", netnsB,
                "udp dst port 7302 or icmp[icmptype] == icmp-echo")) {
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 7110, Lab.B4, 7301, sent, 50, 0.01));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 7111, Lab.B4, 7302, sent, 50, 0.01));
            lab.inNs(lab.a, "ping", "-c", Integer.toString(pings), "-i", "0.1", Lab.B4);
            Thread.sleep(300);
            nw.stop();
            List<JsonNode> drops = nw.json("drop", e -> true);
            for (JsonNode e : drops) {
                assertTrue(e.get("proto").asText().equals("udp") && e.get("dport").asInt() == 7302, "a drop of a datagram to 7302: " + e);
            }
            Matcher m = Pattern.compile("detached; \\d+ events, \\d+ lost \\(ring buffer full\\), (\\d+) missed").matcher(nw.summary());
            assertTrue(m.find(), nw.summary());
            long missed = Long.parseLong(m.group(1));
            assertTrue(drops.size() <= sent && drops.size() + missed >= sent, drops.size() + " drops reported, " + missed + " missed");
            // netfilter lines: the packets the expression describes that crossed B's hooks, each once
            List<JsonNode> nf = nw.json("netfilter", e -> true);
            for (JsonNode e : nf) {
                assertTrue(e.get("dir").asText().equals("rx") && e.get("daddr").asText().equals(Lab.B4)
                        && (e.get("proto").asText().equals("icmp") || e.get("dport").asInt() == 7302), "an echo request or a datagram to 7302 into B: " + e);
            }
            assertEquals(pings, nf.stream().filter(e -> e.get("proto").asText().equals("icmp")).count(), "each echo request once: " + nf);
            assertEquals(sent, nf.stream().filter(e -> e.get("proto").asText().equals("udp")).count(), "each datagram to 7302 once: " + nf);
        }
    }

    /**
     * The payload options read it too (cgroup_skb, the packet's first 128 bytes): curl fetches twice from
     * B's HTTP server, from local ports 7611 and 7612; under `-i 'tcp port 7612'` only the second exchange
     * is reported, on both sides (client in A, server in B), with its path.
     */
    @Test
    void httpExchangesObeyTheExpression() throws Exception {
        lab.spawnReady(lab.b, Lab.python("http_server.py", 8082));
        try (NwProcess nw = NwProcess.start(tmp, "-i", "--json", "--no-logs", "tcp port 7612")) {
            for (int port : new int[] {7611, 7612}) {
                String code = lab.inNs(lab.a, "curl", "-s", "--max-time", "5", "--local-port", Integer.toString(port),
                        "-o", "/dev/null", "-w", "%{http_code}", "http://" + Lab.B4 + ":8082/p" + port).strip();
                assertEquals("404", code, "the server answers an unknown path with 404");
            }
            List<JsonNode> http = nw.await("http", e -> e.get("path").asText().startsWith("/p76"), 2, java.time.Duration.ofSeconds(10));
            Thread.sleep(500);
            nw.stop();
            http = nw.json("http", e -> e.get("path").asText().startsWith("/p76"));
            assertEquals(2, http.size(), "the client's and the server's view of one exchange: " + http);
            for (JsonNode e : http) {
                assertEquals("/p7612", e.get("path").asText(), e.toString());
                assertEquals(404, e.get("status").asInt(), e.toString());
            }
            assertEquals(java.util.Set.of("client", "server"), new java.util.HashSet<>(http.stream().map(e -> e.get("side").asText()).toList()));
        }
    }

    @Test
    void aBadExpressionIsLibpcapsMessageInOneLineAndExit2() throws Exception {
        for (String[] args : new String[][] {{"-t", "tcp", "prot", "80"}, {"-u", "ether host 02:00:00:00:00:01"}, {"-S", "tcp"}}) {
            Process p = NwProcess.command(args).redirectErrorStream(true).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(2, p.exitValue(), out);
            assertEquals(1, out.lines().count(), out);
            assertTrue(out.startsWith("netwatcher: "), out);
            if (args[0].equals("-t")) assertTrue(out.contains("filter expression 'tcp prot 80': ") && out.contains("syntax error"), out);
            if (args[0].equals("-u")) assertTrue(out.contains("ethernet addresses supported only on"), out);
            if (args[0].equals("-S")) assertTrue(out.contains("applies to -t, -u, -I, -n, -k, -i, --dns, --tls, -M and -R, not to -S"), out);
        }
    }

    private static long counted(NwProcess nw, Pattern p) {
        Matcher m = p.matcher(nw.summary());
        assertTrue(m.find(), "the detached line counts it: " + nw.summary());
        return Long.parseLong(m.group(1));
    }
}
