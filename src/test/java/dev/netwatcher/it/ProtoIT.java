package dev.netwatcher.it;

import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.stats.ProtoCount;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * -p counts every packet by protocol, not only TCP/UDP/ICMP: the test sends from A to B 50 UDP
 * datagrams, 5 pings, and IP packets of protocol 253 (RFC 3692's experimental number) over IPv4
 * and IPv6, each received by a socket in B (so B answers none of them with an ICMP error). In A's
 * namespace the sent counts and IP bytes must be exactly those, in B's the received ones.
 */
class ProtoIT extends LabTest {
    @Test
    void everyProtocolIsCountedAsTheTestSentIt() throws Exception {
        try (Collector a = new Collector(List.of(Probes.PROTO), new Filter(lab.netns(lab.a), 0, 0, null, null));
             Collector b = new Collector(List.of(Probes.PROTO), new Filter(lab.netns(lab.b), 0, 0, null, null))) {
            lab.inNs(lab.a, "ping", "-c", "1", "-W", "2", Lab.B4); // ARP and neighbour discovery before counting
            lab.inNs(lab.a, "ping", "-6", "-c", "1", "-W", "2", Lab.B6);
            List<ProtoCount> a0 = a.session().protoCounts(), b0 = b.session().protoCounts();

            Process udp = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 8301, 50));
            Process raw4 = lab.spawnReady(lab.b, Lab.python("raw_proto.py", "recv", Lab.B4, 253, 7, 30));
            Process raw6 = lab.spawnReady(lab.b, Lab.python("raw_proto.py", "recv", Lab.B6, 253, 4, 30));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41301, Lab.B4, 8301, 50, 100, 0.0));
            lab.inNs(lab.a, "ping", "-c", "5", "-i", "0.05", "-W", "2", Lab.B4);
            lab.inNs(lab.a, Lab.python("raw_proto.py", "send", Lab.B4, 253, 7, 30));
            lab.inNs(lab.a, Lab.python("raw_proto.py", "send", Lab.B6, 253, 4, 30));
            assertEquals("50", Lab.readLine(udp.getInputStream()), "B read every datagram");
            assertEquals("7", Lab.readLine(raw4.getInputStream()));
            assertEquals("4", Lab.readLine(raw6.getInputStream()));

            List<ProtoCount> a1 = a.session().protoCounts(), b1 = b.session().protoCounts();
            // sent by A: IP bytes are the IP header (20 / 40), the UDP header (8) or ICMP's (8), and the payload
            assertCount(a0, a1, "ipv4", "udp", 0, 0, 50, 50 * (20 + 8 + 100));
            assertCount(a0, a1, "ipv4", "icmp", 5, 5 * 84, 5, 5 * 84);
            assertCount(a0, a1, "ipv4", "253", 0, 0, 7, 7 * (20 + 30));
            assertCount(a0, a1, "ipv6", "253", 0, 0, 4, 4 * (40 + 30));
            assertCount(a0, a1, "ipv4", "tcp", 0, 0, 0, 0);
            // received by B
            assertCount(b0, b1, "ipv4", "udp", 50, 50 * (20 + 8 + 100), 0, 0);
            assertCount(b0, b1, "ipv4", "icmp", 5, 5 * 84, 5, 5 * 84);
            assertCount(b0, b1, "ipv4", "253", 7, 7 * (20 + 30), 0, 0);
            assertCount(b0, b1, "ipv6", "253", 4, 4 * (40 + 30), 0, 0);
        }
    }

    private static void assertCount(List<ProtoCount> before, List<ProtoCount> after, String family, String proto,
                                    long rxPackets, long rxBytes, long txPackets, long txBytes) {
        ProtoCount b = find(before, family, proto), a = find(after, family, proto);
        String what = family + "/" + proto + " " + after;
        assertEquals(rxPackets, a.rxPackets() - b.rxPackets(), "received packets " + what);
        assertEquals(rxBytes, a.rxBytes() - b.rxBytes(), "received bytes " + what);
        assertEquals(txPackets, a.txPackets() - b.txPackets(), "sent packets " + what);
        assertEquals(txBytes, a.txBytes() - b.txBytes(), "sent bytes " + what);
    }

    private static ProtoCount find(List<ProtoCount> counts, String family, String proto) {
        return counts.stream().filter(c -> c.family().equals(family) && c.proto().equals(proto)).findFirst()
                .orElse(new ProtoCount(family, proto, 0, 0, 0, 0));
    }
}
