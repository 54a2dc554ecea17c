package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -p through the command line (--json proto_share lines, a decimal --interval, the
 * netwatcher_ip_* metrics) counts every packet by protocol, not only TCP/UDP/ICMP: the test sends from A to B 50 UDP
 * datagrams, 5 pings, and IP packets of protocol 253 (RFC 3692's experimental number) over IPv4
 * and IPv6, each received by a socket in B (so B answers none of them with an ICMP error). In A's
 * namespace the sent counts and IP bytes must be exactly those, in B's the received ones.
 */
class ProtoIT extends LabTest {
    @Test
    void everyProtocolIsCountedAsTheTestSentIt() throws Exception {
        lab.inNs(lab.a, "ping", "-c", "1", "-W", "2", Lab.B4); // ARP and neighbour discovery before counting
        lab.inNs(lab.a, "ping", "-6", "-c", "1", "-W", "2", Lab.B6);
        try (NwProcess a = NwProcess.start(tmp, "-p", "--netns", Long.toString(lab.netns(lab.a)), "--json", "--interval", "0.5",
                     "--no-logs", "--metrics", "127.0.0.1:0");
             NwProcess b = NwProcess.start(tmp, "-p", "--netns", Long.toString(lab.netns(lab.b)), "--json", "--interval", "0.5", "--no-logs")) {
            Process udp = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 8301, 50));
            Process raw4 = lab.spawnReady(lab.b, Lab.python("raw_proto.py", "recv", Lab.B4, 253, 7, 30));
            Process raw6 = lab.spawnReady(lab.b, Lab.python("raw_proto.py", "recv", Lab.B6, 253, 4, 30));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41301, Lab.B4, 8301, 50, 100, 0.0));
            Thread.sleep(700); // the pings in a later --interval 0.5 table than the datagrams
            lab.inNs(lab.a, "ping", "-c", "5", "-i", "0.05", "-W", "2", Lab.B4);
            lab.inNs(lab.a, Lab.python("raw_proto.py", "send", Lab.B4, 253, 7, 30));
            lab.inNs(lab.a, Lab.python("raw_proto.py", "send", Lab.B6, 253, 4, 30));
            assertEquals("50", Lab.readLine(udp.getInputStream()), "B read every datagram");
            assertEquals("7", Lab.readLine(raw4.getInputStream()));
            assertEquals("4", Lab.readLine(raw6.getInputStream()));

            // the metrics, counted since netwatcher started: sent by A, IP bytes are the IP header (20 / 40),
            // the UDP header (8) or ICMP's (8), and the payload
            String m = a.metrics();
            assertMetric(m, "ipv4", "udp", 0, 0, 50, 50 * (20 + 8 + 100));
            assertMetric(m, "ipv4", "icmp", 5, 5 * 84, 5, 5 * 84);
            assertMetric(m, "ipv4", "253", 0, 0, 7, 7 * (20 + 30));
            assertMetric(m, "ipv6", "253", 0, 0, 4, 4 * (40 + 30));
            assertMetric(m, "ipv4", "tcp", 0, 0, 0, 0);

            // the proto_share lines, each interval's counts: their sums over the run, on both sides
            Thread.sleep(1200); // two more --interval 0.5 lines, after the last packet
            assertEquals(143, a.stop(), a.summary());
            assertEquals(143, b.stop(), b.summary());
            assertCount(a.json("proto_share", e -> true), "ipv4", "udp", 0, 0, 50, 50 * (20 + 8 + 100));
            assertCount(a.json("proto_share", e -> true), "ipv4", "253", 0, 0, 7, 7 * (20 + 30));
            assertCount(a.json("proto_share", e -> true), "ipv6", "253", 0, 0, 4, 4 * (40 + 30));
            List<JsonNode> received = b.json("proto_share", e -> true);
            assertCount(received, "ipv4", "udp", 50, 50 * (20 + 8 + 100), 0, 0);
            assertCount(received, "ipv4", "icmp", 5, 5 * 84, 5, 5 * 84);
            assertCount(received, "ipv4", "253", 7, 7 * (20 + 30), 0, 0);
            assertCount(received, "ipv6", "253", 4, 4 * (40 + 30), 0, 0);
            // each table covers the --interval 0.5 before it (the first one also the start-up; a quiet one has no rows)
            List<Long> ticks = received.stream().map(e -> e.get("ts_ns").asLong()).distinct().sorted().toList();
            assertTrue(ticks.size() >= 2, "datagrams and pings 0.7 s apart: two tables at least: " + ticks);
            for (JsonNode e : received) {
                if (e.get("ts_ns").asLong() == ticks.get(0)) continue;
                assertEquals(500_000_000L, e.get("interval_ns").asLong(), 60_000_000L, e.toString());
            }
        }
    }

    private static void assertMetric(String m, String family, String proto, long rxPackets, long rxBytes, long txPackets, long txBytes) {
        String[] f = {"family=\"" + family + "\"", "proto=\"" + proto + "\""};
        String what = family + "/" + proto + " in\n" + m;
        assertEquals(rxPackets, Math.max(0, NwProcess.sum(m, "netwatcher_ip_packets_total", f[0], f[1], "dir=\"rx\"")), "received packets " + what);
        assertEquals(rxBytes, Math.max(0, NwProcess.sum(m, "netwatcher_ip_bytes_total", f[0], f[1], "dir=\"rx\"")), "received bytes " + what);
        assertEquals(txPackets, Math.max(0, NwProcess.sum(m, "netwatcher_ip_packets_total", f[0], f[1], "dir=\"tx\"")), "sent packets " + what);
        assertEquals(txBytes, Math.max(0, NwProcess.sum(m, "netwatcher_ip_bytes_total", f[0], f[1], "dir=\"tx\"")), "sent bytes " + what);
    }

    private static void assertCount(List<JsonNode> rows, String family, String proto,
                                    long rxPackets, long rxBytes, long txPackets, long txBytes) {
        List<JsonNode> mine = rows.stream().filter(e -> e.get("family").asText().equals(family) && e.get("proto").asText().equals(proto)).toList();
        String what = family + "/" + proto + " " + mine;
        assertEquals(rxPackets, mine.stream().mapToLong(e -> e.get("rx_packets").asLong()).sum(), "received packets " + what);
        assertEquals(rxBytes, mine.stream().mapToLong(e -> e.get("rx_bytes").asLong()).sum(), "received bytes " + what);
        assertEquals(txPackets, mine.stream().mapToLong(e -> e.get("tx_packets").asLong()).sum(), "sent packets " + what);
        assertEquals(txBytes, mine.stream().mapToLong(e -> e.get("tx_bytes").asLong()).sum(), "sent bytes " + what);
    }
}
