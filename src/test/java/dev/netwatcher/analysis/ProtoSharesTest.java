package dev.netwatcher.analysis;

import dev.netwatcher.event.ProtoShare;
import dev.netwatcher.event.ProtoShareReport;
import dev.netwatcher.stats.ProtoCount;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProtoSharesTest {
    @Test
    void anIntervalIsTheDifferenceOfTotalsWithEachProtocolsShare() {
        ProtoShares s = new ProtoShares(List.of(new ProtoCount("ipv4", "tcp", 10, 1000, 10, 1000)), 0);
        ProtoShareReport r = s.next(5, 1_000_000_000L, List.of(new ProtoCount("ipv4", "tcp", 40, 4000, 10, 1000),
                new ProtoCount("ipv6", "ipv6-icmp", 5, 500, 5, 500), new ProtoCount("arp", "-", 0, 0, 0, 0)));
        assertEquals(1_000_000_000L, r.intervalNs());
        assertEquals(2, r.rows().size(), "protocols that did not move are left out: " + r.rows());
        ProtoShare tcp = r.rows().get(0), icmp6 = r.rows().get(1);
        assertEquals("tcp", tcp.proto(), "busiest first");
        assertEquals(30, tcp.rxPackets());
        assertEquals(0, tcp.txPackets());
        assertEquals(75.0, tcp.packetShare(), 1e-9); // 30 of 40 packets
        assertEquals(3000.0 / 4000 * 100, tcp.byteShare(), 1e-9);
        assertEquals(25.0, icmp6.packetShare(), 1e-9);
        ProtoShareReport quiet = s.next(6, 2_000_000_000L, List.of(new ProtoCount("ipv4", "tcp", 40, 4000, 10, 1000)));
        assertEquals(List.of(), quiet.rows());
    }
}
