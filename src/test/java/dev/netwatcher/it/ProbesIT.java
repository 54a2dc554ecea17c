package dev.netwatcher.it;

import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.event.TcpErrorEvent;
import dev.netwatcher.event.TcpStateEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Cidr;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probes against the real kernel: traffic between two namespaces, checked
 * against what the test did (its connections, a closed port, packets it dropped
 * with nftables) and the kernel's own counters (nstat).
 */
class ProbesIT extends LabTest {
    static final Duration WAIT = Duration.ofSeconds(5);

    static Predicate<Event> flow(String saddr, int sport, String daddr, int dport) {
        return e -> {
            Flow f = e.flow();
            return f.saddr() != null && f.saddr().equals(addr(saddr)) && f.daddr().equals(addr(daddr))
                    && (sport == 0 || f.sport() == sport) && (dport == 0 || f.dport() == dport);
        };
    }

    static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(s);
        }
    }

    void listen(String ns, boolean v6, int port) throws InterruptedException {
        lab.spawn(ns, "socat", "-u", (v6 ? "TCP6" : "TCP4") + "-LISTEN:" + port + ",reuseaddr,fork", "OPEN:/dev/null,wronly");
        for (int i = 0; i < 100; i++) {
            if (lab.inNs(ns, "ss", "-Hltn", "sport = :" + port).contains(":" + port)) return;
            Thread.sleep(20);
        }
        throw new AssertionError("server on port " + port + " did not start");
    }

    /** A long-lived IPv4 connection from A; what is written to the process's stdin is sent. */
    Process openClient(int port, int sourcePort) throws InterruptedException {
        Process client = lab.spawn(lab.a, "socat", "-u", "-", target(false, port, sourcePort));
        for (int i = 0; i < 100; i++) {
            if (lab.inNs(lab.a, "ss", "-Htn", "state", "established", "sport = :" + sourcePort).contains(":" + sourcePort)) return client;
            Thread.sleep(20);
        }
        throw new AssertionError("connection from port " + sourcePort + " not established");
    }

    static String target(boolean v6, int port, int sourcePort) {
        return v6 ? "TCP6:[" + Lab.B6 + "]:" + port + ",sourceport=" + sourcePort
                : "TCP4:" + Lab.B4 + ":" + port + ",sourceport=" + sourcePort;
    }

    @Test
    void tcpStateFollowsTheConnectionsTheTestMade() throws Exception {
        listen(lab.b, false, 7001);
        listen(lab.b, true, 7002);
        try (Collector c = new Collector(List.of(Probes.TCP_STATE), Filter.NONE)) {
            for (boolean v6 : new boolean[] {false, true}) {
                int port = v6 ? 7002 : 7001, src = v6 ? 40002 : 40001;
                lab.inNs(lab.a, "sh", "-c", "echo hello | socat -u - " + target(v6, port, src));
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                List<TcpStateEvent> client = c.await(TcpStateEvent.class,
                        e -> flow(a, src, b, port).test(e) && e.newState().equals("CLOSE"), 1, WAIT);
                assertEquals(1, client.size(), "client socket closed once (" + (v6 ? "IPv6" : "IPv4") + ")");
                List<TcpStateEvent> all = c.events(TcpStateEvent.class, flow(a, src, b, port));
                List<String> transitions = all.stream().map(e -> e.oldState() + ">" + e.newState()).toList();
                assertTrue(transitions.contains("SYN_SENT>ESTABLISHED"), transitions.toString());
                assertTrue(transitions.contains("ESTABLISHED>FIN_WAIT1"), transitions.toString());
                for (TcpStateEvent e : all) {
                    assertEquals(lab.netns(lab.a), e.header().netns(), "client events in namespace A");
                    assertEquals(v6 ? "ipv6" : "ipv4", e.flow().familyName());
                }
                TcpStateEvent established = all.stream().filter(e -> e.newState().equals("ESTABLISHED")).findFirst().orElseThrow();
                assertTrue(established.oldStateNs() > 0 && established.oldStateNs() < 1_000_000_000L,
                        "handshake time is known and short: " + established.oldStateNs());
                // the connect() runs in socat's context: the SYN_SENT change carries its pid
                assertTrue(c.events(TcpStateEvent.class, e -> e.newState().equals("SYN_SENT")
                                && e.flow().daddr() != null && e.flow().daddr().equals(addr(b)) && e.flow().dport() == port)
                        .stream().anyMatch(e -> "socat".equals(e.header().comm()) && e.header().pid() > 0),
                        "SYN_SENT attributed to socat");
                List<TcpStateEvent> server = c.await(TcpStateEvent.class,
                        e -> flow(b, port, a, src).test(e) && e.newState().equals("CLOSE"), 1, WAIT);
                assertEquals(1, server.size(), "server side closed once");
                assertEquals(lab.netns(lab.b), server.getFirst().header().netns());
            }
        }
    }

    @Test
    void connectionOpenedBeforeStartIsSeen() throws Exception {
        listen(lab.b, false, 7003);
        Process client = openClient(7003, 40003);
        try (Collector c = new Collector(List.of(Probes.TCP_STATE, Probes.RETRANS), Filter.NONE)) {
            client.getOutputStream().write("bye\n".getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().close(); // EOF: socat shuts the connection down
            List<TcpStateEvent> fin = c.await(TcpStateEvent.class,
                    e -> flow(Lab.A4, 40003, Lab.B4, 7003).test(e) && e.oldState().equals("ESTABLISHED"), 1, WAIT);
            assertEquals(1, fin.size(), "the pre-existing connection's first change");
            assertEquals("FIN_WAIT1", fin.getFirst().newState());
            assertEquals(-1, fin.getFirst().oldStateNs(), "time in ESTABLISHED is unknown: it began before netwatcher");
        }
    }

    @Test
    void closedPortKnockGivesDropResetAndError() throws Exception {
        long rstsBefore = lab.nstat(lab.b, "TcpOutRsts");
        try (Collector c = new Collector(List.of(Probes.DROP, Probes.TCP_ERROR), new Filter(0, 0, 0, null, null))) {
            for (boolean v6 : new boolean[] {false, true}) {
                int src = v6 ? 40022 : 40021;
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                assertTrue(lab.tryInNs(lab.a, "socat", "-u", "-", target(v6, 7999, src)) != 0, "connection refused");
                List<DropEvent> drops = c.await(DropEvent.class, e -> flow(a, src, b, 7999).test(e), 1, WAIT);
                assertEquals(1, drops.size(), "the SYN to the closed port is dropped once");
                assertEquals("NO_SOCKET", drops.getFirst().reason());
                assertEquals(lab.netns(lab.b), drops.getFirst().header().netns());
                assertTrue(drops.getFirst().location().startsWith("tcp_v" + (v6 ? "6" : "4") + "_rcv+0x"), drops.getFirst().location());
                assertEquals("S", dev.netwatcher.event.TcpFlags.format(drops.getFirst().tcpFlags()));

                List<TcpErrorEvent> sent = c.await(TcpErrorEvent.class,
                        e -> e.kind().equals("rst_sent") && flow(b, 7999, a, src).test(e), 1, WAIT);
                assertEquals(1, sent.size(), "B answers with one RST, reported in the RST's direction");
                assertEquals("NO_SOCKET", sent.getFirst().reason());
                List<TcpErrorEvent> recv = c.await(TcpErrorEvent.class,
                        e -> e.kind().equals("rst_recv") && flow(a, src, b, 7999).test(e), 1, WAIT);
                assertEquals(1, recv.size(), "A accepts the RST");
                assertEquals("SYN_SENT", recv.getFirst().state());
                List<TcpErrorEvent> err = c.await(TcpErrorEvent.class,
                        e -> e.kind().equals("sock_error") && e.flow().daddr() != null && e.flow().daddr().equals(addr(b))
                                && e.flow().dport() == 7999, 1, WAIT);
                assertEquals("ECONNREFUSED", err.getFirst().reason());
                assertEquals(lab.netns(lab.a), err.getFirst().header().netns());
            }
            long rstsAfter = lab.nstat(lab.b, "TcpOutRsts");
            long seen = c.events(TcpErrorEvent.class, e -> e.kind().equals("rst_sent") && e.header().netns() == lab.netns(lab.b)).size();
            assertEquals(rstsAfter - rstsBefore, seen, "rst_sent events == TcpOutRsts of namespace B");
            assertEquals(0, c.session().missed(), "the witnesses of -k and -e saw no hit their probes missed");

            // -e has four hooks, each with its witness in its own slot: with nw_tcp_rst_sent gone,
            // each knock's RST is one missed hit; the other three hooks still report
            c.session().detachProgram("nw_tcp_rst_sent");
            for (int i = 0; i < 3; i++) {
                int src = 40030 + i;
                assertTrue(lab.tryInNs(lab.a, "socat", "-u", "-", target(false, 7999, src)) != 0, "connection refused");
                c.await(TcpErrorEvent.class, e -> e.kind().equals("rst_recv") && e.flow().sport() == src, 1, WAIT);
            }
            assertEquals(3, c.session().missed(), "three RSTs sent without nw_tcp_rst_sent");
            assertTrue(c.events(TcpErrorEvent.class, e -> e.kind().equals("rst_sent") && e.flow().dport() >= 40030).isEmpty());
        }
    }

    /**
     * The original's "Invalid SEQ": segments B drops because their sequence number lies beyond its
     * receive window, crafted by the test on a live connection, against B's own count of them
     * (TcpExtBeyondWindow, tcp_sequence()). IPv4 and IPv6.
     */
    @Test
    void segmentsOutsideTheWindowAreInvalidSeqErrors() throws Exception {
        Process server = lab.spawnReady(lab.b, Lab.python("conn_peer.py", "server", 7300, 8));
        ConnIT.say(server, "accept");
        try (Collector c = new Collector(List.of(Probes.TCP_ERROR), Filter.NONE)) {
            for (boolean v6 : new boolean[] {false, true}) {
                int n = v6 ? 4 : 3, src = v6 ? 40052 : 40051;
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                long before = lab.nstat(lab.b, "TcpExtBeyondWindow");
                Process p = lab.spawn(lab.a, Lab.python("bad_seq.py", a, b, 7300, src, n));
                assertEquals("sent " + n, Lab.readLine(p.getInputStream()));
                List<TcpErrorEvent> got = c.await(TcpErrorEvent.class, e -> e.kind().equals("invalid_seq")
                        && "TCP_INVALID_SEQUENCE".equals(e.reason()) && flow(a, src, b, 7300).test(e), n, WAIT);
                assertEquals(n, got.size(), "one invalid_seq per crafted segment, in the segment's direction");
                assertEquals(n, lab.nstat(lab.b, "TcpExtBeyondWindow") - before, "the kernel's own count");
                assertEquals("ESTABLISHED", got.getFirst().state());
                assertEquals(lab.netns(lab.b), got.getFirst().header().netns());
            }
            assertEquals(0, c.session().missed());
        }
    }

    /** -e on UDP: a connected socket's datagram to a closed port comes back as ECONNREFUSED (ICMP port unreachable). */
    @Test
    void udpSocketErrorsAreReported() throws Exception {
        try (Collector c = new Collector(List.of(Probes.TCP_ERROR), Filter.NONE)) {
            for (boolean v6 : new boolean[] {false, true}) {
                int src = v6 ? 40062 : 40061;
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                String noPorts = v6 ? "Udp6NoPorts" : "UdpNoPorts";
                long before = lab.nstat(lab.b, noPorts);
                int rc = lab.tryInNs(lab.a, "python3", "-c", "import socket\n"
                        + "s = socket.socket(socket.AF_INET6 if ':' in '" + b + "' else socket.AF_INET, socket.SOCK_DGRAM)\n"
                        + "s.bind(('" + a + "', " + src + "))\ns.connect(('" + b + "', 7998))\ns.send(b'x')\ns.settimeout(5)\n"
                        + "try:\n    s.recv(10)\nexcept ConnectionRefusedError:\n    exit(0)\nexit(1)");
                assertEquals(0, rc, "the application got ECONNREFUSED");
                assertEquals(1, lab.nstat(lab.b, noPorts) - before, "B had no socket for the datagram");
                List<TcpErrorEvent> err = c.await(TcpErrorEvent.class, e -> e.kind().equals("sock_error")
                        && "udp".equals(e.flow().protoName()) && e.flow().sport() == src, 1, WAIT);
                assertEquals(1, err.size(), "one socket error");
                assertEquals("ECONNREFUSED", err.getFirst().reason());
                assertTrue(flow(a, src, b, 7998).test(err.getFirst()), "local -> remote: " + err.getFirst().flow());
                assertEquals(lab.netns(lab.a), err.getFirst().header().netns());
            }
        }
    }

    @Test
    void badChecksumsAreReportedAsErrorsAndDrops() throws Exception {
        String script = java.nio.file.Path.of(ProbesIT.class.getResource("/badcsum.py").toURI()).toString();
        long before = lab.nstat(lab.b, "TcpInCsumErrors");
        try (Collector c = new Collector(List.of(Probes.TCP_ERROR, Probes.DROP), new Filter(0, 40060, 0, null, null))) {
            for (int i = 0; i < 3; i++) lab.inNs(lab.a, "/usr/bin/python3", script, Lab.A4, Lab.B4, "40060", "7999");
            List<TcpErrorEvent> bad = c.await(TcpErrorEvent.class, e -> e.kind().equals("bad_csum"), 3, WAIT);
            long after = lab.nstat(lab.b, "TcpInCsumErrors");
            assertEquals(3, after - before, "the kernel counted the test's 3 bad segments");
            assertEquals(after - before, bad.size(), "one bad_csum event per TcpInCsumErrors");
            for (TcpErrorEvent e : bad) {
                assertTrue(flow(Lab.A4, 40060, Lab.B4, 7999).test(e), e.toString());
                assertEquals(lab.netns(lab.b), e.header().netns());
                assertEquals(12345, e.seq());
            }
            assertEquals(3, c.await(DropEvent.class, e -> e.reason().equals("TCP_CSUM"), 3, WAIT).size());
        }
    }

    @Test
    void nftablesDropsAreCountedWithTheirReason() throws Exception {
        lab.nft(lab.b, "add table inet nwtest; add counter inet nwtest dropped; "
                + "add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                + "add rule inet nwtest input udp dport 9999 counter name dropped drop");
        try (Collector c = new Collector(List.of(Probes.DROP), new Filter(lab.netns(lab.b), 0, 9999, null, null))) {
            for (int i = 0; i < 5; i++) {
                lab.inNs(lab.a, "sh", "-c", "echo x | socat -u - UDP4-SENDTO:" + Lab.B4 + ":9999,sourceport=40010");
                lab.inNs(lab.a, "sh", "-c", "echo x | socat -u - UDP6-SENDTO:[" + Lab.B6 + "]:9999,sourceport=40011");
            }
            long counted = lab.nftCounter(lab.b, "nwtest", "dropped");
            assertEquals(10, counted, "nft dropped what the test sent");
            c.await(DropEvent.class, e -> true, 10, WAIT);
            List<DropEvent> drops = c.settled(DropEvent.class, e -> true);
            assertEquals(counted, drops.size(), "one drop event per packet nft dropped: " + drops);
            assertEquals(5, drops.stream().filter(flow(Lab.A4, 40010, Lab.B4, 9999)).count());
            assertEquals(5, drops.stream().filter(flow(Lab.A6, 40011, Lab.B6, 9999)).count());
            for (DropEvent d : drops) {
                assertEquals("NETFILTER_DROP", d.reason());
                assertEquals("udp", d.flow().protoName());
                assertTrue(d.location().startsWith("nft_do_chain+0x") || d.location().startsWith("nf_hook_slow+0x"), d.location());
            }
        }
    }

    @Test
    void retransmissionsMatchTheKernelCounter() throws Exception {
        listen(lab.b, false, 7005);
        Process client = openClient(7005, 40030);
        try (Collector c = new Collector(List.of(Probes.RETRANS, Probes.DROP), new Filter(0, 0, 0, Cidr.parse("198.18.0.0/15"), null))) {
            long before = lab.nstat(lab.a, "TcpRetransSegs");
            long rtoBefore = lab.nstat(lab.a, "TcpExtTCPTimeouts"), probesBefore = lab.nstat(lab.a, "TcpExtTCPLossProbes");
            lab.nft(lab.b, "add table inet nwtest; add counter inet nwtest dropped; "
                    + "add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                    + "add rule inet nwtest input tcp dport 7005 counter name dropped drop");
            OutputStream in = client.getOutputStream();
            in.write("lost in transit\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            // the segment and two retransmissions of it dropped (a loss probe, timeouts), then the way is open
            for (int i = 0; i < 200 && lab.nftCounter(lab.b, "nwtest", "dropped") < 3; i++) Thread.sleep(25);
            long nftDropped = lab.nftCounter(lab.b, "nwtest", "dropped");
            lab.nft(lab.b, "delete table inet nwtest");
            assertTrue(nftDropped >= 3, "nft dropped the segment and two retransmissions: " + nftDropped);
            List<RetransEvent> r = c.await(RetransEvent.class, flow(Lab.A4, 40030, Lab.B4, 7005)::test, 2, WAIT);
            // the retransmission after the rule is gone gets through and is acked: nothing unacked in ss -i
            for (int i = 0; i < 200 && lab.inNs(lab.a, "ss", "-Htin", "sport = :40030").contains("unacked:"); i++) Thread.sleep(25);
            assertTrue(!lab.inNs(lab.a, "ss", "-Htin", "sport = :40030").contains("unacked:"), "the segment was acked in the end");
            r = c.settled(RetransEvent.class, flow(Lab.A4, 40030, Lab.B4, 7005)::test);
            // the kernel counts a retransmission before its tracepoint fires, and a record can wait up to
            // Session.POLL_MS in the ring: wait on the counter itself until the events catch up with it
            // TcpRetransSegs counts every connection of A's namespace (one a test before left behind
            // may retransmit too): compare it with every retransmission event of that namespace
            long netnsA = lab.netns(lab.a);
            long after = lab.nstat(lab.a, "TcpRetransSegs");
            List<RetransEvent> inA = c.events(RetransEvent.class, e -> e.header().netns() == netnsA);
            for (int i = 0; i < 100 && inA.size() < after - before; i++) {
                Thread.sleep(50);
                inA = c.events(RetransEvent.class, e -> e.header().netns() == netnsA);
                after = lab.nstat(lab.a, "TcpRetransSegs");
            }
            r = c.events(RetransEvent.class, flow(Lab.A4, 40030, Lab.B4, 7005)::test);
            assertTrue(r.size() >= 2, "retransmissions seen: " + r.size());
            assertEquals(after - before, inA.size(), "one event per retransmitted segment of A's namespace (TcpRetransSegs): " + inA);
            for (RetransEvent e : r) {
                assertEquals(0, e.err());
                assertEquals("ESTABLISHED", e.state());
                assertEquals(16, e.len(), "the 16 bytes the test wrote");
            }
            assertEquals(r.getFirst().seq(), r.getLast().seq(), "the same segment each time");
            // -r's ca_state against the kernel's own counts: a tail loss probe goes out in Open
            // (TCPLossProbes), each retransmission timeout enters Loss first (TCPTimeouts, tcp_enter_loss())
            long rto = lab.nstat(lab.a, "TcpExtTCPTimeouts") - rtoBefore, probes = lab.nstat(lab.a, "TcpExtTCPLossProbes") - probesBefore;
            assertTrue(rto >= 1, "at least one timeout: " + rto);
            assertEquals(rto, inA.stream().filter(e -> e.caState().equals("Loss")).count(), "ca_state Loss per TCPTimeouts: " + inA);
            assertEquals(probes, inA.stream().filter(e -> e.caState().equals("Open")).count(), "ca_state Open per TCPLossProbes: " + inA);
            assertEquals(inA.size(), rto + probes, "no other ca_state: " + inA);
            long dropEvents = c.events(DropEvent.class, e -> flow(Lab.A4, 40030, Lab.B4, 7005).test(e)
                    && e.reason().equals("NETFILTER_DROP")).size();
            assertEquals(nftDropped, dropEvents, "every packet nft dropped was reported");
        }
    }

    @Test
    void filtersApplyInTheKernel() throws Exception {
        listen(lab.b, true, 7011);
        listen(lab.b, true, 7012);
        listen(lab.b, false, 7011);
        Filter f = new Filter(0, 0, 7011, null, Cidr.parse("fd00:198::2/128"));
        try (Collector c = new Collector(List.of(Probes.TCP_STATE), f)) {
            lab.inNs(lab.a, "sh", "-c", "echo a | socat -u - " + target(true, 7011, 40041));
            lab.inNs(lab.a, "sh", "-c", "echo b | socat -u - " + target(true, 7012, 40042));
            lab.inNs(lab.a, "sh", "-c", "echo c | socat -u - " + target(false, 7011, 40043));
            c.await(TcpStateEvent.class, e -> e.newState().equals("CLOSE"), 1, WAIT);
            List<TcpStateEvent> all = c.settled(TcpStateEvent.class, e -> true);
            assertFalse(all.isEmpty());
            for (TcpStateEvent e : all) {
                assertEquals(7011, e.flow().dport(), "dport filter: " + e);
                assertEquals(addr(Lab.B6), e.flow().daddr(), "daddr filter: " + e);
            }
            assertTrue(all.stream().anyMatch(flow(Lab.A6, 40041, Lab.B6, 7011)), "the matching connection is there");
        }
        // an IPv4 source filter: A's IPv6 connection and B's server-side sockets (source B) are out
        try (Collector c = new Collector(List.of(Probes.TCP_STATE), new Filter(0, 0, 0, Cidr.parse(Lab.A4 + "/32"), null))) {
            lab.inNs(lab.a, "sh", "-c", "echo d | socat -u - " + target(true, 7011, 40045));
            lab.inNs(lab.a, "sh", "-c", "echo e | socat -u - " + target(false, 7011, 40046));
            c.await(TcpStateEvent.class, e -> e.newState().equals("CLOSE") && e.flow().sport() == 40046, 1, WAIT);
            List<TcpStateEvent> all = c.settled(TcpStateEvent.class, e -> true);
            for (TcpStateEvent e : all) assertEquals(addr(Lab.A4), e.flow().saddr(), "saddr filter: " + e);
            assertTrue(all.stream().anyMatch(flow(Lab.A4, 40046, Lab.B4, 7011)), "the matching connection is there");
        }
        Filter ns = new Filter(lab.netns(lab.a), 0, 0, null, null);
        try (Collector c = new Collector(List.of(Probes.TCP_STATE, Probes.DROP, Probes.TCP_ERROR), ns)) {
            lab.tryInNs(lab.a, "socat", "-u", "-", target(false, 7999, 40044));
            c.await(TcpErrorEvent.class, e -> e.kind().equals("rst_recv"), 1, WAIT);
            List<Event> all = c.events();
            assertFalse(all.isEmpty());
            for (Event e : all) assertEquals(lab.netns(lab.a), e.header().netns(), "netns filter: " + e);
            assertTrue(all.stream().noneMatch(e -> e instanceof DropEvent d && d.reason().equals("NO_SOCKET")),
                    "B's drop of the SYN is in another namespace");
        }
    }
}
