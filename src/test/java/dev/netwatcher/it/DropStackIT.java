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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -k --stack: a knock on a closed TCP port is dropped by the TCP receive path (NO_SOCKET in
 * tcp_v4_rcv()/tcp_v6_rcv()), a datagram to a closed UDP port by the UDP one (__udp4_lib_rcv(),
 * __udp6_lib_rcv()); the drop's stack names that function, below the one that freed the packet,
 * with no frame of the tracing machinery on top. Without --stack a drop has no stack.
 */
class DropStackIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void aDropsStackNamesTheReceivePathThatDroppedIt() throws Exception {
        try (Collector c = new Collector(List.of(Probes.drops(true)), new Filter(lab.netns(lab.b), 0, 0, null, null))) {
            lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":7991");
            lab.tryInNs(lab.a, "socat", "-u", "-", "TCP6:[" + Lab.B6 + "]:7992");
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41093, Lab.B4, 7993, 1, 10, 0.0));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A6, 41094, Lab.B6, 7994, 1, 10, 0.0));
            assertStack(c, 7991, "tcp_v4_rcv+");
            assertStack(c, 7992, "tcp_v6_rcv+");
            assertStack(c, 7993, "__udp4_lib_rcv+");
            assertStack(c, 7994, "__udp6_lib_rcv+");
            assertEquals(0, c.session().lost());
        }
    }

    @Test
    void withoutStackADropHasNone() throws Exception {
        try (Collector c = new Collector(List.of(Probes.DROP), new Filter(lab.netns(lab.b), 0, 0, null, null))) {
            lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":7995");
            DropEvent d = c.await(DropEvent.class, e -> e.flow().dport() == 7995, 1, WAIT).get(0);
            assertNull(d.stack());
        }
    }

    private static void assertStack(Collector c, int port, String receiver) throws Exception {
        List<DropEvent> drops = c.await(DropEvent.class, e -> e.flow().dport() == port, 1, WAIT);
        assertFalse(drops.isEmpty(), "a drop at port " + port + ": " + c.events());
        DropEvent d = drops.get(0);
        assertEquals("NO_SOCKET", d.reason(), d.toString());
        List<String> stack = d.stack();
        assertTrue(stack != null && stack.size() >= 3, "a stack: " + stack);
        assertTrue(stack.stream().allMatch(f -> f.matches("[\\w.$]+\\+0x[0-9a-f]+( \\[\\w+\\])?")), "function+0xoff frames: " + stack);
        // innermost: the function that freed the packet; no frame of the program or of the tracepoint's machinery
        assertTrue(stack.get(0).startsWith("sk_skb_reason_drop+") || stack.get(0).startsWith("kfree_skb_reason+"),
                "the freeing function first: " + stack);
        assertTrue(stack.stream().noneMatch(f -> f.startsWith("bpf_trace_run") || f.startsWith("__traceiter_")), "no tracing frame: " + stack);
        assertTrue(stack.get(1).startsWith(receiver), receiver + " just below it (it dropped the packet): " + stack);
        assertEquals(d.location(), stack.get(1).replaceAll(" \\[\\w+\\]$", ""), "the location is that frame");
    }
}
