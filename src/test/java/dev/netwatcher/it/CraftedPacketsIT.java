package dev.netwatcher.it;

import dev.netwatcher.event.DropEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The BPF header parser (bpf/include/nw_skb.h) on packets the test crafts with raw
 * sockets: IPv4 options, IPv6 extension headers (one and two), an IPv6 first fragment, a truncated UDP header
 * and random bytes after an IPv4 header. B drops them (nft, or the kernel itself) and
 * the drop events must carry the flow read past the options and extension headers,
 * and the probe must survive the rest.
 */
class CraftedPacketsIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void optionsAndExtensionHeadersAreWalkedAndBrokenHeadersAreSurvived() throws Exception {
        lab.nft(lab.b, "add table inet nwtest; add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                + "add rule inet nwtest input udp dport 9090 drop");
        try (Collector c = new Collector(List.of(Probes.DROP), new Filter(lab.netns(lab.b), 0, 0, null, null))) {
            send("v4opts", Lab.A4, Lab.B4);
            DropEvent v4 = c.await(DropEvent.class, d -> d.flow().dport() == 9090 && d.flow().family() == 2, 1, WAIT).get(0);
            assertFlow(v4, "NETFILTER_DROP");

            send("v6dst", Lab.A6, Lab.B6);
            List<DropEvent> v6l = c.await(DropEvent.class, d -> d.flow().dport() == 9090 && d.flow().family() == 10, 1, WAIT);
            assertEquals(1, v6l.size(), "IPv6 + destination options: " + c.events());
            DropEvent v6 = v6l.get(0);
            assertFlow(v6, "NETFILTER_DROP");

            send("v6hop2", Lab.A6, Lab.B6);
            List<DropEvent> v6s = c.await(DropEvent.class, d -> d.flow().dport() == 9090 && d.flow().family() == 10, 2, WAIT);
            assertFlow(v6s.get(1), "NETFILTER_DROP");

            // a first fragment: IPv6 reassembles after LOCAL_IN, so nft sees it whole and the
            // parser must step over the fragment header (offset 0) to the UDP ports
            send("v6frag", Lab.A6, Lab.B6);
            v6s = c.await(DropEvent.class, d -> d.flow().dport() == 9090 && d.flow().family() == 10, 3, WAIT);
            assertEquals(3, v6s.size(), "first fragment: " + c.events());
            assertFlow(v6s.get(2), "NETFILTER_DROP");

            // 4 bytes of UDP header: nft cannot match it, __udp4_lib_rcv() drops it (pskb_may_pull fails);
            // the ports are in those 4 bytes, the parser's read past the end must not hurt
            // (to port 9091, which nft lets through)
            lab.inNs(lab.a, Lab.python("raw_send.py", "v4trunc", Lab.A4, Lab.B4, 9091));
            DropEvent t = c.await(DropEvent.class, d -> d.flow().family() == 2 && d.flow().dport() == 9091, 1, WAIT).get(0);
            assertTrue(!t.reason().equals("NETFILTER_DROP"), t.reason());
            assertEquals("udp", t.flow().protoName());
            assertEquals(40100, t.flow().sport());
            assertEquals(Lab.A4, t.flow().saddr().getHostAddress());

            // random bytes as a UDP header (to port 9092, where nothing listens): the kernel drops each one
            // (a length or checksum check, else no socket); each is reported once
            for (int i = 0; i < 20; i++) lab.inNs(lab.a, Lab.python("raw_send.py", "garbage", Lab.A4, Lab.B4, 9092));
            java.util.function.Predicate<DropEvent> garbage = d -> d.flow().family() == 2 && d.flow().dport() == 9092;
            c.await(DropEvent.class, garbage, 20, WAIT);
            // still alive and still right after the garbage
            send("v4opts", Lab.A4, Lab.B4);
            List<DropEvent> again = c.await(DropEvent.class, d -> d.flow().dport() == 9090 && d.flow().family() == 2, 2, WAIT);
            assertFlow(again.get(1), "NETFILTER_DROP");
            List<DropEvent> dropped = c.events(DropEvent.class, garbage);
            assertEquals(20, dropped.size(), "one drop per packet: " + dropped);
            assertTrue(dropped.stream().noneMatch(d -> d.reason().equals("NETFILTER_DROP")), dropped.toString());
            assertTrue(c.session().lost() == 0);
        }
    }

    private void send(String kind, String src, String dst) {
        lab.inNs(lab.a, Lab.python("raw_send.py", kind, src, dst, 9090));
    }

    private static void assertFlow(DropEvent d, String reason) {
        assertEquals(reason, d.reason());
        assertEquals("udp", d.flow().protoName());
        assertEquals(40100, d.flow().sport());
        assertEquals(9090, d.flow().dport());
    }
}
