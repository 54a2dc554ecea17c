package dev.netwatcher.it;

import dev.netwatcher.event.RttHistogram;
import dev.netwatcher.event.TcpCloseEvent;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.event.TcpInfo;
import dev.netwatcher.event.TcpRttEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.ConnProbe;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -x, -a, --rtt against ground truth: `ss -tinm` on the same sockets (idle, so the
 * numbers hold still between the two reads), the bytes the test's peers sent, and
 * the connections it opened and closed.
 */
class ConnIT extends LabTest {
    static final int SENT = 200_000, REPLY = 3000;
    static final Duration WAIT = Duration.ofSeconds(5);

    /** ss -tinm for the established socket with this local port: key -> value of its info tokens ("cwnd" -> "10"). */
    Map<String, String> ss(String ns, int localPort) {
        return ss(ns, "sport = :" + localPort);
    }

    Map<String, String> ss(String ns, String filter) {
        String out = lab.inNs(ns, "ss", "-Htinm", "state", "established", filter);
        Map<String, String> m = new HashMap<>();
        for (String tok : out.trim().split("\\s+")) {
            int colon = tok.indexOf(':');
            if (tok.startsWith("skmem:(")) {
                for (String kv : tok.substring(7, tok.length() - 1).split(",")) {
                    int i = 0;
                    while (i < kv.length() && Character.isLetter(kv.charAt(i))) i++;
                    m.put("skmem." + kv.substring(0, i), kv.substring(i));
                }
            } else if (colon > 0 && colon < tok.length() - 1 && !tok.contains("[") && Character.isLetter(tok.charAt(0))) {
                m.putIfAbsent(tok.substring(0, colon), tok.substring(colon + 1));
            }
        }
        assertTrue(m.containsKey("cwnd"), "ss shows no socket for " + filter + ": " + out);
        return m;
    }

    /** ss's fields without the ones that change while a connection is idle (time since the last send, receive, ack). */
    static Map<String, String> idleFields(Map<String, String> ss) {
        Map<String, String> m = new HashMap<>(ss);
        m.keySet().removeIf(k -> k.startsWith("last") || k.equals("busy"));
        return m;
    }

    /**
     * ss's view of the connection at localPort once it is idle: two reads 100 ms apart agree on
     * every field but the idle times (delayed ACKs and window updates are done). Replaces a fixed
     * sleep before comparing with a snapshot.
     */
    Map<String, String> idle(String ns, int localPort) throws InterruptedException {
        Map<String, String> prev = ss(ns, localPort);
        for (int i = 0; i < 100; i++) {
            Thread.sleep(100);
            Map<String, String> now = ss(ns, localPort);
            if (idleFields(now).equals(idleFields(prev))) return now;
            prev = now;
        }
        throw new AssertionError("the connection on port " + localPort + " did not go idle in 10 s: " + prev);
    }

    static long ms(String v) { // "0.027" ms -> 27 µs
        return Math.round(Double.parseDouble(v) * 1000);
    }

    static void say(Process p, String line) throws IOException {
        OutputStream o = p.getOutputStream();
        o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        o.flush();
    }

    static void expect(Process p, String want) throws IOException {
        String line = Lab.readLine(p.getInputStream());
        assertEquals(want, line, "peer said");
    }

    static InetAddress addr(String s) {
        return ProbesIT.addr(s);
    }

    TcpConnEvent latest(Collector c, String local, int port) {
        List<TcpConnEvent> got = c.events(TcpConnEvent.class, e -> e.reason().equals("snapshot")
                && e.flow().saddr() != null && e.flow().saddr().equals(addr(local)) && e.flow().sport() == port);
        assertFalse(got.isEmpty(), "no snapshot of " + local + ":" + port);
        return got.getLast();
    }

    /** Every number ss shows for the socket equals netwatcher's. */
    void assertAgrees(Map<String, String> ss, TcpInfo x, String what) {
        String[] rtt = ss.get("rtt").split("/");
        assertEquals(ms(rtt[0]), x.srttUs(), what + " srtt (ss rtt:" + ss.get("rtt") + ")");
        assertEquals(ms(rtt[1]), x.rttvarUs(), what + " rttvar");
        assertEquals(Long.parseLong(ss.get("cwnd")), x.cwnd(), what + " cwnd");
        if (ss.containsKey("ssthresh")) assertEquals(Long.parseLong(ss.get("ssthresh")), x.ssthresh(), what + " ssthresh");
        else assertEquals(TcpInfo.INFINITE_SSTHRESH, x.ssthresh(), what + " ssthresh (ss shows none: infinite)");
        assertEquals(Long.parseLong(ss.get("mss")), x.mss(), what + " mss");
        assertEquals(Long.parseLong(ss.get("bytes_acked")), x.bytesAcked(), what + " bytes_acked");
        assertEquals(Long.parseLong(ss.getOrDefault("bytes_sent", "0")), x.bytesSent(), what + " bytes_sent");
        assertEquals(Long.parseLong(ss.getOrDefault("bytes_received", "0")), x.bytesReceived(), what + " bytes_received");
        assertEquals(Long.parseLong(ss.get("segs_out")), x.segsOut(), what + " segs_out");
        assertEquals(Long.parseLong(ss.get("segs_in")), x.segsIn(), what + " segs_in");
        assertEquals(Long.parseLong(ss.get("rcv_space")), x.rcvSpace(), what + " rcv_space");
        assertEquals(Long.parseLong(ss.get("snd_wnd")), x.sndWnd(), what + " snd_wnd");
        assertEquals(ms(ss.get("minrtt")), x.minRttUs(), what + " minrtt");
        assertEquals(Long.parseLong(ss.get("skmem.rb")), x.rcvbuf(), what + " rcvbuf (skmem rb)");
        assertEquals(Long.parseLong(ss.get("skmem.tb")), x.sndbuf(), what + " sndbuf (skmem tb)");
        assertEquals(Long.parseLong(ss.get("skmem.w")), x.wmemQueued(), what + " sndbuf used (skmem w)");
        assertEquals(Long.parseLong(ss.get("skmem.r")), x.rmemAlloc(), what + " rcvbuf used (skmem r)");
        long total = ss.containsKey("retrans") ? Long.parseLong(ss.get("retrans").split("/")[1]) : 0;
        assertEquals(total, x.retransTotal(), what + " total retransmits");
        assertEquals("ESTABLISHED", x.state(), what + " state");
    }

    @Test
    void extraAgreesWithSsAndClosedConnectionsAreSummed() throws Exception {
        Process server = lab.spawnReady(lab.b, Lab.python("conn_peer.py", "server", 7101, 7));
        ConnProbe probe = Probes.connections(ConnProbe.EXTRA | ConnProbe.ALL);
        try (Collector c = new Collector(List.of(probe), Filter.NONE)) {
            // two connections wait in the accept queue: the listener's backlog is 2 of 7
            Process q1 = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B4, 7101, 40001, 0));
            Process q2 = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B6, 7101, 40002, 0));
            expect(q1, "done");
            expect(q2, "done");
            c.snapshot();
            List<TcpConnEvent> listeners = c.events(TcpConnEvent.class, e -> e.info().listening() && e.flow().sport() == 7101);
            assertFalse(listeners.isEmpty(), "the listener was not in the socket walk");
            assertEquals(2, listeners.getLast().info().backlog(), "accept queue (ss Recv-Q)");
            assertEquals(7, listeners.getLast().info().backlogMax(), "listen() backlog (ss Send-Q)");
            assertEquals(lab.netns(lab.b), listeners.getLast().header().netns());
            say(server, "accept");

            long t0 = System.nanoTime();
            Process v4 = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B4, 7101, 40011, SENT));
            Process v6 = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B6, 7101, 40012, SENT));
            expect(v4, "done");
            expect(v6, "done");
            Map<String, Map<String, String>> truth = new HashMap<>();
            truth.put("A v4", idle(lab.a, 40011));
            truth.put("A v6", idle(lab.a, 40012));
            c.snapshot();
            // still idle after the snapshot: ss and the walk saw the same connection state
            assertEquals(idleFields(truth.get("A v4")), idleFields(ss(lab.a, 40011)), "idle through the snapshot");
            assertEquals(idleFields(truth.get("A v6")), idleFields(ss(lab.a, 40012)), "idle through the snapshot");
            assertAgrees(truth.get("A v4"), latest(c, Lab.A4, 40011).info(), "client IPv4");
            assertAgrees(truth.get("A v6"), latest(c, Lab.A6, 40012).info(), "client IPv6");
            assertEquals(SENT, latest(c, Lab.A4, 40011).info().bytesSent(), "bytes the client sent");
            assertEquals(REPLY, latest(c, Lab.A6, 40012).info().bytesReceived(), "bytes the client received");
            // the server side of the IPv4 connection, read in its own namespace
            String out = lab.inNs(lab.b, "ss", "-Htn", "state", "established", "dport = :40011");
            int serverPort = Integer.parseInt(out.trim().split("\\s+")[2].replaceAll(".*:", ""));
            Map<String, String> serverTruth = ss(lab.b, "dport = :40011");
            List<TcpConnEvent> serverSide = c.events(TcpConnEvent.class, e -> e.reason().equals("snapshot")
                    && e.flow().sport() == serverPort && e.flow().dport() == 40011);
            assertFalse(serverSide.isEmpty(), "no snapshot of the server side");
            assertAgrees(serverTruth, serverSide.getLast().info(), "server IPv4");
            assertEquals(SENT, serverSide.getLast().info().bytesReceived());
            // who holds each side, and which side connected (both seen opening: exact ages)
            TcpConnEvent clientRow = latest(c, Lab.A4, 40011);
            assertEquals(v4.pid(), clientRow.owner() == null ? -1 : clientRow.owner().pid(), "owner of the client socket");
            assertEquals("client", clientRow.role());
            assertFalse(clientRow.ageAtLeast(), "seen opening");
            assertTrue(clientRow.ageNs() > 0 && clientRow.ageNs() <= System.nanoTime() - t0, "age " + clientRow.ageNs());
            TcpConnEvent serverRow = serverSide.getLast();
            assertEquals(server.pid(), serverRow.owner() == null ? -1 : serverRow.owner().pid(), "owner of the accepted socket");
            assertEquals("server", serverRow.role());
            assertEquals("listener", listeners.getLast().role());

            // state changes came as they happened, with the numbers of that moment
            assertFalse(c.events(TcpConnEvent.class, e -> e.reason().equals("state") && e.flow().sport() == 40011
                    && "SYN_SENT".equals(e.oldState()) && e.info().state().equals("ESTABLISHED")).isEmpty(),
                    "no SYN_SENT -> ESTABLISHED change for the IPv4 client");

            // -a: each connection is summed up when it ends
            for (Process p : List.of(v4, v6)) say(p, "close");
            expect(v4, "closed");
            expect(v6, "closed");
            long lived = System.nanoTime() - t0;
            for (int[] port : new int[][] {{40011, 4}, {40012, 6}}) {
                List<TcpCloseEvent> closed = c.await(TcpCloseEvent.class, e -> e.flow().sport() == port[0], 1, WAIT);
                assertEquals(1, closed.size(), "closed connections from port " + port[0] + ": " + closed);
                TcpCloseEvent e = closed.getFirst();
                assertEquals(port[1] == 4 ? addr(Lab.B4) : addr(Lab.B6), e.flow().daddr());
                assertEquals(SENT, e.info().bytesSent(), "bytes sent by the client");
                // bytes_received follows rcv_nxt (tcp_rcv_nxt_update()): the peer's FIN takes one sequence number
                assertEquals(REPLY + 1, e.info().bytesReceived(), "bytes received by the client, and the server's FIN");
                assertTrue(e.durationNs() > 0 && e.durationNs() <= lived, "duration " + e.durationNs() + " of at most " + lived);
                assertTrue(e.header().comm() != null && e.header().comm().startsWith("python"), "task: " + e.header());
                assertEquals(lab.netns(lab.a), e.header().netns());
            }
            List<TcpCloseEvent> serverClosed = c.await(TcpCloseEvent.class, e -> e.flow().dport() == 40011, 1, WAIT);
            assertEquals(1, serverClosed.size());
            assertEquals("LAST_ACK", serverClosed.getFirst().lastState(), "the passive closer ends in LAST_ACK");
            assertEquals(SENT + 1, serverClosed.getFirst().info().bytesReceived(), "the client's bytes and its FIN");

            // a refused connection: SYN_SENT -> CLOSE with ECONNREFUSED
            assertTrue(lab.tryInNs(lab.a, "socat", "-u", "OPEN:/dev/null", "TCP4:" + Lab.B4 + ":7199,sourceport=40021") != 0);
            List<TcpCloseEvent> refused = c.await(TcpCloseEvent.class, e -> e.flow().sport() == 40021, 1, WAIT);
            assertEquals(1, refused.size());
            assertEquals("SYN_SENT", refused.getFirst().lastState());
            assertEquals(111, refused.getFirst().info().skErr(), "ECONNREFUSED");
            for (Process p : List.of(q1, q2)) say(p, "close");
        }
    }

    @Test
    void rttPerConnectionAgreesWithSsAndSamplesArePerRemote() throws Exception {
        Process server = lab.spawnReady(lab.b, Lab.python("conn_peer.py", "server", 7102, 8));
        say(server, "accept");
        try (Collector c = new Collector(List.of(Probes.connections(ConnProbe.RTT)), Filter.NONE)) {
            Process v4 = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B4, 7102, 40031, SENT));
            Process v6 = lab.spawn(lab.a, Lab.python("conn_peer.py", "client", Lab.B6, 7102, 40032, SENT));
            expect(v4, "done");
            expect(v6, "done");
            Map<String, String> t4 = idle(lab.a, 40031), t6 = idle(lab.a, 40032);
            c.snapshot();
            assertEquals(idleFields(t4), idleFields(ss(lab.a, 40031)), "idle through the snapshot");
            assertEquals(idleFields(t6), idleFields(ss(lab.a, 40032)), "idle through the snapshot");
            for (Object[] k : new Object[][] {{Lab.A4, 40031, t4, Lab.B4}, {Lab.A6, 40032, t6, Lab.B6}}) {
                List<TcpRttEvent> r = c.events(TcpRttEvent.class, e -> e.flow().saddr().equals(addr((String) k[0]))
                        && e.flow().sport() == (int) k[1]);
                assertFalse(r.isEmpty(), "no tcp_rtt for port " + k[1]);
                @SuppressWarnings("unchecked") Map<String, String> truth = (Map<String, String>) k[2];
                String[] rtt = truth.get("rtt").split("/");
                assertEquals(ms(rtt[0]), r.getLast().srttUs(), "srtt of " + k[1] + " (ss rtt:" + truth.get("rtt") + ")");
                assertEquals(ms(rtt[1]), r.getLast().rttvarUs());
                assertEquals(ms(truth.get("minrtt")), r.getLast().minRttUs());

                List<RttHistogram> hs = c.session().rttHistograms().stream()
                        .filter(h -> h.remote().equals(addr((String) k[3])) && h.netns() == lab.netns(lab.a)).toList();
                assertEquals(1, hs.size(), "one histogram for remote " + k[3] + ": " + hs);
                RttHistogram h = hs.getFirst();
                long segsIn = Long.parseLong(truth.get("segs_in"));
                assertTrue(h.count() >= 1 && h.count() <= segsIn,
                        "samples " + h.count() + " must be between 1 and the segments the client received (" + segsIn + ")");
                assertEquals(h.count(), java.util.Arrays.stream(h.counts()).sum(), "bucket counts add up");
                assertTrue(h.minUs() <= h.meanUs() && h.meanUs() <= h.maxUs() && h.maxUs() < 1_000_000, h.toString());
            }
            // the listener and the server's sockets in B have RTTs too, but not towards A's addresses from A
            assertTrue(c.events(TcpRttEvent.class, e -> e.flow().sport() == 7102 && e.flow().dport() == 0).isEmpty(),
                    "listeners have no RTT");
            for (Process p : List.of(v4, v6)) say(p, "close");
        }
    }
    /**
     * The socket walk counts every socket by state, TIME_WAIT ones too (they have no tcp_sock):
     * A closes 5 IPv4 and 3 IPv6 connections first, so they wait in TIME_WAIT there; the counts of
     * A's namespace equal what ss shows, state by state, and B's listener is counted in B's.
     */
    @Test
    void theWalkCountsSocketsPerStateAsSsDoes() throws Exception {
        lab.spawn(lab.b, "socat", "-u", "TCP6-LISTEN:7110,reuseaddr,fork,ipv6only=0", "OPEN:/dev/null");
        lab.awaitListening(lab.b, "t", 7110);
        for (int i = 0; i < 5; i++) lab.inNs(lab.a, "socat", "-u", "/dev/null", "TCP4:" + Lab.B4 + ":7110");
        for (int i = 0; i < 3; i++) lab.inNs(lab.a, "socat", "-u", "/dev/null", "TCP6:[" + Lab.B6 + "]:7110");
        // until A's sockets stop changing state (the last FIN answered); in one CI run 7 of the 8 were in
        // TIME_WAIT there: what ss shows is the truth the walk is held to, not the 8 the test made
        Map<String, Long> truthA = ssStates(lab, lab.a), last = Map.of();
        for (int i = 0; i < 200 && !(truthA.equals(last) && truthA.getOrDefault("TIME_WAIT", 0L) > 0
                && truthA.keySet().stream().noneMatch(k -> k.startsWith("FIN_WAIT"))); i++) {
            Thread.sleep(25);
            last = truthA;
            truthA = ssStates(lab, lab.a);
        }
        assertTrue(truthA.getOrDefault("TIME_WAIT", 0L) > 0, "A's closed connections wait in TIME_WAIT: " + truthA);
        for (String ns : List.of(lab.a, lab.b)) {
            try (Collector c = new Collector(List.of(Probes.connections(ConnProbe.EXTRA)), new Filter(lab.netns(ns), 0, 0, null, null))) {
                Map<String, Long> before = ssStates(lab, ns);
                c.snapshot();
                Map<String, Long> ours = new HashMap<>();
                c.session().connectionStates().forEach(s -> {
                    if (s.sockets() > 0) ours.put(s.state(), s.sockets());
                });
                assertEquals(before, ours, "sockets per state in " + ns + " (ss)");
                assertTrue(c.session().connectionStates().stream().anyMatch(s -> s.state().equals("ESTABLISHED")),
                        "every state is a series, zeros included: " + c.session().connectionStates());
            }
        }
        assertEquals(1L, ssStates(lab, lab.b).get("LISTEN"), "B's listener");
    }

    /** ss -tan in ns, as counts per kernel state name (ESTAB is ESTABLISHED, SYN-RECV a request socket). */
    static Map<String, Long> ssStates(Lab lab, String ns) {
        Map<String, Long> out = new HashMap<>();
        for (String line : lab.inNs(ns, "ss", "-tanH").split("\n")) {
            if (line.isBlank()) continue;
            String st = line.trim().split("\\s+")[0];
            String name = switch (st) {
                case "ESTAB" -> "ESTABLISHED";
                case "SYN-RECV" -> "NEW_SYN_RECV";
                case "FIN-WAIT-1" -> "FIN_WAIT1";
                case "FIN-WAIT-2" -> "FIN_WAIT2";
                default -> st.replace('-', '_');
            };
            out.merge(name, 1L, Long::sum);
        }
        return out;
    }
}
