package dev.netwatcher.it;

import dev.netwatcher.event.FlowTotal;
import dev.netwatcher.event.IcmpEvent;
import dev.netwatcher.event.NetfilterEvent;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PacketProbe;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

import static dev.netwatcher.it.ProbesIT.addr;
import static dev.netwatcher.it.ProbesIT.flow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-packet layer times against delays the test makes itself: a rate-limited
 * qdisc (tbf) must show in "qdisc", a receiver that reads late in "socket", an
 * nftables chain of many rules in its netfilter hook; packet counts must be those
 * the test sent; ping must give one ICMP event per echo.
 */
class PacketsIT extends LabTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    static long median(List<? extends PacketEvent> events, String layer) {
        long[] v = events.stream().mapToLong(e -> e.layers().get(layer)).filter(x -> x >= 0).sorted().toArray();
        assertTrue(v.length > 0, "no packet has layer " + layer);
        return v[v.length / 2];
    }

    static <T> long medianOf(List<T> events, ToLongFunction<T> f) {
        long[] v = events.stream().mapToLong(f).filter(x -> x >= 0).sorted().toArray();
        assertTrue(v.length > 0, "no values");
        return v[v.length / 2];
    }

    /**
     * One datagram sent after everything else, awaited until its tx record is in: records of what
     * was sent before it (duplicates included) were reserved in the ring before it, and the ring is
     * read in reservation order. Goes to a port nothing listens on (B answers port unreachable).
     */
    void sentinel(Collector c, String a, String b) throws Exception {
        lab.inNs(lab.a, Lab.python("udp_send.py", a, 41999, b, 9999, 1, 8, 0));
        c.await(PacketEvent.class, e -> e.dir().equals("tx") && e.flow().sport() == 41999, 1, WAIT);
    }

    /**
     * The UDP send mark: a datagram sent with sendto() has its transport time on every kernel (fentry,
     * else the cgroup sendmsg hook); one sent on a connected socket has it where fentry runs or with
     * --udp-send-syscalls, and otherwise has none, as the start's note says. Nothing attached to the
     * system calls unless asked (the tracepoints slow every process: BENCHMARKS.md "The UDP send mark").
     */
    @Test
    void udpSendMarkOfUnconnectedAndConnectedSockets() throws Exception {
        int n = 10;
        for (boolean syscalls : new boolean[] {false, true}) {
            PacketProbe probe = Probes.packets(PacketProbe.MODE_UDP);
            try (Collector c = new Collector(List.of(syscalls ? probe.markingSendSyscalls() : probe), Filter.NONE)) {
                String links = Lab.run("bpftool", "link", "show"), perf = Lab.run("bpftool", "perf", "list");
                assertEquals(syscalls, perf.contains("sys_enter_sendto"), "the send system calls' tracepoints: " + perf);
                boolean fentry = !links.contains("udp4_sendmsg") && !links.contains("sendmsg4"); // bpftool spells it either way
                boolean noted = c.session().notes().stream().anyMatch(t -> t.contains("connected UDP sockets have no transport time"));
                assertEquals(!syscalls && !fentry, noted, "the note says when connected sockets go untimed: " + c.session().notes());
                for (boolean connected : new boolean[] {false, true}) {
                    int sport = 41300 + (syscalls ? 10 : 0) + (connected ? 1 : 0), dport = 9300 + (connected ? 1 : 0);
                    Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, dport, n));
                    lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, sport, Lab.B4, dport, n, 48, 0.01, connected ? "connect" : "-"));
                    assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
                    List<PacketEvent> tx = c.await(PacketEvent.class,
                            e -> e.dir().equals("tx") && flow(Lab.A4, sport, Lab.B4, dport).test(e), n, WAIT);
                    assertEquals(n, tx.size(), "one tx record per datagram");
                    boolean timed = syscalls || fentry || !connected;
                    String why = (connected ? "connected" : "sendto") + (syscalls ? ", --udp-send-syscalls" : "") + (fentry ? ", fentry" : "");
                    for (PacketEvent e : tx) {
                        long t = e.layers().get("transport");
                        assertTrue(timed ? t > 0 && t < 50_000_000L : t < 0, why + ": transport " + t + " in " + e.layers().asMap());
                    }
                }
            }
        }
    }

    @Test
    void udpPacketsAreCountedOnBothSidesWithEveryLayer() throws Exception {
        int n = 20;
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_UDP)), Filter.NONE)) {
            for (boolean v6 : new boolean[] {false, true}) {
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                int sport = v6 ? 41002 : 41001, dport = v6 ? 9002 : 9001;
                Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", b, dport, n));
                lab.inNs(lab.a, Lab.python("udp_send.py", a, sport, b, dport, n, 64, 0.01));
                assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
                assertEquals(Integer.toString(n), new String(recv.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim(),
                        "the receiver got every datagram");

                List<PacketEvent> tx = c.await(PacketEvent.class, e -> e.dir().equals("tx") && flow(a, sport, b, dport).test(e), n, WAIT);
                List<PacketEvent> rx = c.await(PacketEvent.class, e -> e.dir().equals("rx") && flow(a, sport, b, dport).test(e), n, WAIT);
                sentinel(c, a, b);
                tx = c.events(PacketEvent.class, e -> e.dir().equals("tx") && flow(a, sport, b, dport).test(e));
                rx = c.events(PacketEvent.class, e -> e.dir().equals("rx") && flow(a, sport, b, dport).test(e));
                assertEquals(n, tx.size(), "one tx event per datagram sent");
                assertEquals(n, rx.size(), "one rx event per datagram received");
                for (PacketEvent e : tx) {
                    assertEquals(lab.netns(lab.a), e.header().netns());
                    assertEquals(64, e.len());
                    assertEquals(List.of("transport", "ip", "driver"), List.copyOf(e.layers().asMap().keySet()),
                            "veth has no qdisc (noqueue): the layer is absent, not zero");
                    assertEquals("python3", e.header().comm(), "sent in the sender's context");
                }
                for (PacketEvent e : rx) {
                    assertEquals(lab.netns(lab.b), e.header().netns());
                    assertEquals(64, e.len());
                    assertEquals(List.of("driver", "ip", "transport", "socket"), List.copyOf(e.layers().asMap().keySet()));
                }
                List<FlowTotal> totals = c.session().flowTotals();
                FlowTotal sent = totals.stream().filter(t -> t.netns() == lab.netns(lab.a) && t.flow().sport() == sport
                        && t.flow().daddr().equals(addr(b))).findFirst().orElseThrow();
                assertEquals(n, sent.txPackets());
                assertEquals(64L * n, sent.txBytes());
                FlowTotal got = totals.stream().filter(t -> t.netns() == lab.netns(lab.b) && t.flow().sport() == dport
                        && t.flow().dport() == sport).findFirst().orElseThrow();
                assertEquals(n, got.rxPackets());
                assertEquals(64L * n, got.rxBytes());
            }
        }
    }

    @Test
    void rateLimitedQdiscShowsInTheQdiscLayer() throws Exception {
        // 2 Mbit/s: 150 kB take ~0.6 s, so packets wait in tbf for milliseconds.
        lab.tbf2mbit(lab.a);
        Process server = lab.spawnReady(lab.b, Lab.python("tcp_slow_reader.py", Lab.B4, 9010, 0));
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_TCP)), Filter.NONE)) {
            long unseen0 = c.session().counters().get("payload bytes of those packets");
            lab.inNs(lab.a, Lab.python("tcp_send.py", 41010, Lab.B4, 9010, 10, 15000, 0));
            assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            assertEquals("150000", new String(server.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
            List<PacketEvent> data = c.settled(PacketEvent.class,
                    e -> e.dir().equals("tx") && e.len() > 0 && flow(Lab.A4, 41010, Lab.B4, 9010).test(e));
            // every byte sent is in a tx record or counted: a segment the kernel ran no BPF for at the
            // driver (a softirq on top of another task) is counted from the sequence numbers
            // (PacketExactnessIT runs ten such transfers)
            long bytes = data.stream().mapToLong(PacketEvent::len).sum();
            long notSeen = c.session().counters().get("payload bytes of those packets") - unseen0;
            assertEquals(150000, bytes + notSeen, "the data packets carry the bytes sent, or they are counted as not seen "
                    + "at the driver (" + notSeen + "): " + bytes + "; counters " + c.session().counters() + " "
                    + data.stream().sorted(java.util.Comparator.comparingLong(PacketEvent::seq))
                    .map(e -> e.seq() + "+" + e.len() + (e.gsoSegment() ? "g" : "") + (e.retransmit() ? "R" : "")).toList());
            long qdisc = median(data, "qdisc");
            assertTrue(qdisc > 1_000_000, "median time in tbf above 1 ms: " + qdisc + " ns");
            for (String other : new String[] {"ip", "driver"}) {
                assertTrue(qdisc > 10 * median(data, other), "qdisc dominates " + other + ": " + qdisc + " vs " + median(data, other));
            }
            long withQdisc = data.stream().filter(e -> e.layers().get("qdisc") >= 0).count();
            assertTrue(withQdisc >= 0.9 * data.size(), "the qdisc time of at least 90% of the data packets is known: "
                    + withQdisc + " of " + data.size());
            // the receiving side (no tbf there) has no qdisc on its ACKs
            List<PacketEvent> acks = c.events(PacketEvent.class, e -> e.dir().equals("tx") && flow(Lab.B4, 9010, Lab.A4, 41010).test(e));
            assertTrue(!acks.isEmpty() && acks.stream().allMatch(e -> e.layers().get("qdisc") < 0), "B's veth has no qdisc");
        }
    }

    @Test
    void slowReaderShowsInTheSocketLayer() throws Exception {
        Process server = lab.spawnReady(lab.b, Lab.python("tcp_slow_reader.py", Lab.B4, 9020, 1.0));
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_TCP)), Filter.NONE)) {
            long start = System.nanoTime();
            lab.inNs(lab.a, Lab.python("tcp_send.py", 41020, Lab.B4, 9020, 5, 100, 0.05));
            assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            assertEquals("500", new String(server.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
            List<PacketEvent> rx = c.await(PacketEvent.class,
                    e -> e.dir().equals("rx") && e.len() > 0 && flow(Lab.A4, 41020, Lab.B4, 9020).test(e), 5, WAIT);
            assertEquals(5, rx.size(), "one rx event per segment of 100 bytes");
            for (PacketEvent e : rx) {
                assertEquals(100, e.len());
                long socket = e.layers().get("socket");
                assertTrue(socket > 600_000_000L, "waited in the socket until the reader woke (>0.6 s): " + socket);
                assertTrue(e.layers().get("transport") >= 0 && e.layers().get("transport") < 50_000_000L, "transport: " + e.layers());
                assertEquals("python3", e.header().comm(), "copied in the reader's context");
            }
            List<PacketEvent> tx = c.events(PacketEvent.class,
                    e -> e.dir().equals("tx") && e.len() > 0 && flow(Lab.A4, 41020, Lab.B4, 9020).test(e));
            assertEquals(5, tx.size());
            assertTrue(tx.stream().allMatch(e -> e.layers().get("transport") >= 0), "the send call is matched to each segment");
            assertTrue(tx.stream().allMatch(e -> e.layers().get("transport") < System.nanoTime() - start));
        }
    }

    @Test
    void nftablesChainShowsInItsHook() throws Exception {
        StringBuilder rules = new StringBuilder("add table inet nwslow\n"
                + "add chain inet nwslow input { type filter hook input priority 0; policy accept; }\n");
        for (int i = 0; i < 3000; i++) rules.append("add rule inet nwslow input udp dport ").append(20000 + i % 1000).append(" counter\n");
        java.nio.file.Path f = java.nio.file.Files.createTempFile("nwt-rules", ".nft");
        try {
            java.nio.file.Files.writeString(f, rules);
            lab.inNs(lab.b, "nft", "-f", f.toString());
        } finally {
            java.nio.file.Files.deleteIfExists(f);
        }
        int n = 20;
        try (Collector c = new Collector(List.of(Probes.NETFILTER), Filter.NONE)) {
            Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 9030, n));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41030, Lab.B4, 9030, n, 32, 0.01));
            assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
            List<NetfilterEvent> in = c.await(NetfilterEvent.class, e -> e.dir().equals("rx") && flow(Lab.A4, 41030, Lab.B4, 9030).test(e), n, WAIT);
            assertEquals(n, in.size(), "one netfilter event per received datagram");
            long localIn = medianOf(in, e -> e.hooks().get("LOCAL_IN"));
            long pre = medianOf(in, e -> e.hooks().get("PRE_ROUTING"));
            assertTrue(localIn > 5_000 && localIn > 5 * pre, "3000 rules on input: LOCAL_IN " + localIn + " ns vs PRE_ROUTING " + pre);
            assertTrue(in.stream().allMatch(e -> e.header().netns() == lab.netns(lab.b)));
            List<NetfilterEvent> out = c.await(NetfilterEvent.class, e -> e.dir().equals("tx") && flow(Lab.A4, 41030, Lab.B4, 9030).test(e), n, WAIT);
            assertEquals(n, out.size(), "the sender's LOCAL_OUT/POST_ROUTING");
            assertTrue(out.stream().allMatch(e -> e.hooks().get("LOCAL_OUT") >= 0 && e.hooks().get("POST_ROUTING") >= 0
                    && e.hooks().get("LOCAL_IN") < 0));
            long sendIn = medianOf(out, e -> e.hooks().get("LOCAL_OUT"));
            assertTrue(localIn > 5 * sendIn, "A has no rules: its LOCAL_OUT " + sendIn + " ns is far below B's LOCAL_IN " + localIn);
        }
    }

    /**
     * -n on the three paths, in both families: B forwards between A and a third namespace C, and
     * A sends to B (local) and through B to C. B's events: dir rx with PRE_ROUTING and LOCAL_IN for
     * what it receives, dir fwd with PRE_ROUTING, FORWARD and POST_ROUTING (and no local hook) for
     * what it forwards; A's: dir tx with LOCAL_OUT and POST_ROUTING. One event per datagram each.
     */
    @Test
    void netfilterTimesLocalAndForwardedPacketsInBothFamilies() throws Exception {
        String c = "nwt-c-" + ProcessHandle.current().pid();
        String c4 = "198.18.1.2", c6 = "fd00:198::1:2";
        try {
            Lab.run("ip", "netns", "add", c);
            Lab.run("ip", "-n", lab.b, "link", "add", "veth1", "type", "veth", "peer", "name", "veth1", "netns", c);
            Lab.run("ip", "-n", lab.b, "addr", "add", "198.18.1.1/24", "dev", "veth1");
            Lab.run("ip", "-n", lab.b, "addr", "add", "fd00:198::1:1/112", "dev", "veth1", "nodad");
            Lab.run("ip", "-n", c, "addr", "add", c4 + "/24", "dev", "veth1");
            Lab.run("ip", "-n", c, "addr", "add", c6 + "/112", "dev", "veth1", "nodad");
            for (String[] l : new String[][] {{lab.b, "veth1"}, {c, "veth1"}, {c, "lo"}}) Lab.run("ip", "-n", l[0], "link", "set", l[1], "up");
            Lab.run("ip", "-n", lab.a, "route", "add", "198.18.1.0/24", "via", Lab.B4);
            Lab.run("ip", "-n", lab.a, "-6", "route", "add", "fd00:198::1:0/112", "via", Lab.B6);
            Lab.run("ip", "-n", c, "route", "add", "default", "via", "198.18.1.1");
            Lab.run("ip", "-n", c, "-6", "route", "add", "fd00:198::/64", "via", "fd00:198::1:1");
            lab.inNs(lab.b, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
            for (String dst : new String[] {c4, c6}) { // resolve neighbours on both links first
                long end = System.nanoTime() + 5_000_000_000L;
                while (lab.tryInNs(lab.a, "ping", "-c1", "-W1", dst) != 0 && System.nanoTime() < end) Thread.sleep(100);
            }
            int n = 10;
            try (Collector col = new Collector(List.of(Probes.NETFILTER), Filter.NONE)) {
                for (boolean v6 : new boolean[] {false, true}) {
                    String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4, cc = v6 ? c6 : c4;
                    int port = v6 ? 9071 : 9070;
                    Process recvB = lab.spawnReady(lab.b, Lab.python("udp_recv.py", b, port, n));
                    Process recvC = lab.spawnReady(c, Lab.python("udp_recv.py", cc, port, n));
                    lab.inNs(lab.a, Lab.python("udp_send.py", a, 41070, b, port, n, 64, 0.005));
                    lab.inNs(lab.a, Lab.python("udp_send.py", a, 41071, cc, port, n, 64, 0.005));
                    assertTrue(recvB.waitFor(15, TimeUnit.SECONDS) && recvC.waitFor(15, TimeUnit.SECONDS));
                    assertEquals(Integer.toString(n), Lab.readLine(recvC.getInputStream()), "C got every forwarded datagram");
                    long nsB = lab.netns(lab.b), nsA = lab.netns(lab.a);
                    List<NetfilterEvent> local = col.await(NetfilterEvent.class,
                            e -> e.header().netns() == nsB && flow(a, 41070, b, port).test(e), n, WAIT);
                    assertEquals(n, local.size(), "B's events for what it received");
                    for (NetfilterEvent e : local) {
                        assertEquals("rx", e.dir());
                        assertTrue(e.hooks().get("PRE_ROUTING") >= 0 && e.hooks().get("LOCAL_IN") >= 0, e.toString());
                        assertTrue(e.hooks().get("FORWARD") < 0 && e.hooks().get("POST_ROUTING") < 0, e.toString());
                    }
                    List<NetfilterEvent> fwd = col.await(NetfilterEvent.class,
                            e -> e.header().netns() == nsB && flow(a, 41071, cc, port).test(e), n, WAIT);
                    assertEquals(n, fwd.size(), "B's events for what it forwarded");
                    for (NetfilterEvent e : fwd) {
                        assertEquals("fwd", e.dir());
                        assertTrue(e.hooks().get("PRE_ROUTING") >= 0 && e.hooks().get("FORWARD") >= 0
                                && e.hooks().get("POST_ROUTING") >= 0, e.toString());
                        assertTrue(e.hooks().get("LOCAL_IN") < 0 && e.hooks().get("LOCAL_OUT") < 0, e.toString());
                    }
                    List<NetfilterEvent> sent = col.await(NetfilterEvent.class,
                            e -> e.header().netns() == nsA && flow(a, 41071, cc, port).test(e), n, WAIT);
                    assertEquals(n, sent.size(), "A's events for what it sent through B");
                    assertTrue(sent.stream().allMatch(e -> e.dir().equals("tx") && e.hooks().get("LOCAL_OUT") >= 0
                            && e.hooks().get("POST_ROUTING") >= 0), sent.toString());
                }
            }
        } finally {
            if (java.nio.file.Files.exists(java.nio.file.Path.of("/run/netns", c))) {
                Lab.run("ip", "netns", "del", c); // its veth1 goes with it, and B's end too; a failure fails the test
            }
        }
    }

    /**
     * With RPS on B's device steering to CPU 1 and the sender on CPU 0, netif_rx() stamps each
     * packet on CPU 0 and netif_receive_skb runs on CPU 1, which finds the stamp in CPU 0's table.
     * Every rx record keeps its driver and ip times, in both families.
     */
    /** The time between successive records, in ms (a missing record shows as a double gap). */
    static String gaps(List<PacketEvent> events) {
        List<Long> ts = events.stream().map(e -> e.header().tsNs()).sorted().toList();
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < ts.size(); i++) sb.append(String.format("%.1f ", (ts.get(i) - ts.get(i - 1)) / 1e6));
        return sb.toString();
    }

    /**
     * A datagram whose sk_data_ready ran no BPF (the kernel skips tracing programs in some softirqs) is
     * taken by its reader from the CPU's last LOCAL_IN datagrams: its wait in the queue is its socket
     * time, counted from LOCAL_IN, and it has no transport time. Detaching nw_pkt_ready stands in for
     * that softirq. The reader reads the first datagram as it comes, then sleeps 0.2 s once each of
     * the next four, which come 0.05 s apart, is queued: they wait about 0.2, 0.35, 0.5 and 0.65 s there.
     */
    @Test
    void aDatagramWhoseQueueingRanNoProgramShowsItsWaitOnTheSocketLayer() throws Exception {
        int stalled = 4;
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_UDP)), Filter.NONE)) {
            c.session().detachProgram("nw_pkt_ready");
            Process recv = lab.spawnReady(lab.b, Lab.python("udp_stall_recv.py", Lab.B4, 9085, 1, stalled, 0.2, "queued"));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41085, Lab.B4, 9085, 1 + stalled, 100, 0.05));
            assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
            assertEquals(Integer.toString(1 + stalled), Lab.readLine(recv.getInputStream()), "B read every datagram");
            List<PacketEvent> rx = c.settled(PacketEvent.class, e -> e.dir().equals("rx") && flow(Lab.A4, 41085, Lab.B4, 9085).test(e))
                    .stream().sorted(java.util.Comparator.comparingLong(e -> e.header().tsNs())).toList();
            String why = rx.stream().map(e -> e.layers().asMap().toString()).toList() + "; counters " + c.session().counters();
            assertEquals(1 + stalled, rx.size(), "each datagram reported at its read: " + why);
            for (int i = 0; i < rx.size(); i++) {
                PacketEvent e = rx.get(i);
                assertEquals(-1, e.layers().get("transport"), "no transport time (its queueing was not seen): " + why);
                if (i > 0) assertTrue(e.layers().get("socket") >= 100_000_000L, "a wait of 0.2-0.65 s is on the socket layer: " + why);
            }
        }
    }

    @Test
    void receiveTimesSurviveRps() throws Exception {
        final String RX_UNSEEN = "datagrams read without a record (their sk_data_ready or read ran no BPF)";
        final String NO_DEVICE = "packets received without their device time (the device tracepoints ran no BPF)";
        String rps = "/sys/class/net/veth0/queues/rx-0/rps_cpus";
        // the sender runs on CPU 0 (veth_xmit() calls netif_rx() there); RPS steers B's packets to CPU 1
        assertTrue(Runtime.getRuntime().availableProcessors() >= 2, "RPS across CPUs needs two");
        lab.inNs(lab.b, "sh", "-c", "echo 2 > " + rps);
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_UDP)), Filter.NONE)) {
            int n = 40;
            long unseen0 = c.session().counters().get(RX_UNSEEN);
            long noDevice0 = c.session().counters().get(NO_DEVICE);
            for (boolean v6 : new boolean[] {false, true}) {
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                int port = v6 ? 9081 : 9080;
                Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", b, port, n));
                List<String> pinned = new java.util.ArrayList<>(List.of("taskset", "-c", "0"));
                pinned.addAll(List.of(Lab.python("udp_send.py", a, 41080, b, port, n, 64, 0.002)));
                lab.inNs(lab.a, pinned.toArray(String[]::new));
                assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
                assertEquals(Integer.toString(n), Lab.readLine(recv.getInputStream()), "B read every datagram");
                List<PacketEvent> rx = c.await(PacketEvent.class, e -> e.dir().equals("rx") && flow(a, 41080, b, port).test(e), n, WAIT);
                // the kernel sometimes runs no tracing program in a softirq that runs on top of another task
                // (traced: the VM's agent), for one or two datagrams in a row: their sk_data_ready and device
                // programs do not run. The reader then takes the datagram from the scratch and reports it
                // without its device time (counted); a datagram neither reported nor taken is counted unseen
                long unseen = c.session().counters().get(RX_UNSEEN) - unseen0;
                // the count of a lost record may come a while after the records (two ci-repeat runs showed 39
                // records with the count 0, then 1 in the failure message, the second after a 2 s wait): look
                // again, records and count, for up to 10 s
                java.util.function.Predicate<PacketEvent> mine = e -> e.dir().equals("rx") && flow(a, 41080, b, port).test(e);
                for (int i = 0; i < 500 && rx.size() + unseen < n; i++) {
                    Thread.sleep(20);
                    unseen = c.session().counters().get(RX_UNSEEN) - unseen0;
                    rx = c.events(PacketEvent.class, mine);
                }
                unseen0 += unseen;
                assertTrue(unseen <= 1, "at most one datagram without a record: " + unseen);
                assertEquals(n, rx.size() + unseen, "one rx record per datagram, or counted; counters " + c.session().counters()
                        + ", recursion misses " + c.session().recursionMisses() + "; " + (v6 ? "IPv6" : "IPv4")
                        + ", ms between records: " + gaps(rx));
                long noDevice = c.session().counters().get(NO_DEVICE) - noDevice0;
                noDevice0 += noDevice;
                long withoutDevice = rx.stream().filter(e -> e.layers().get("driver") < 0 || e.layers().get("ip") < 0).count();
                assertTrue(withoutDevice <= noDevice, "a record without its device time is counted: " + withoutDevice
                        + " records, counted " + noDevice + "; " + rx);
                // every record has its socket time; a datagram its reader took (its sk_data_ready ran no program) has no
                // transport time, and it went by in a softirq that ran no tracing program, its device tracepoints' neither
                for (PacketEvent e : rx) {
                    boolean device = e.layers().get("driver") >= 0 && e.layers().get("ip") >= 0;
                    assertTrue(e.layers().get("socket") >= 0 && (e.layers().get("transport") >= 0 || !device),
                            e.layers().asMap() + " " + e);
                }
            }
        } finally {
            lab.inNs(lab.b, "sh", "-c", "echo 0 > " + rps);
        }
    }

    @Test
    void pingGivesOneIcmpEventPerEcho() throws Exception {
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_ICMP)), Filter.NONE)) {
            for (boolean v6 : new boolean[] {false, true}) {
                String a = v6 ? Lab.A6 : Lab.A4, b = v6 ? Lab.B6 : Lab.B4;
                lab.inNs(lab.a, "ping", v6 ? "-6" : "-4", "-c", "5", "-i", "0.05", b);
                List<IcmpEvent> echo = c.await(IcmpEvent.class, e -> flow(a, 0, b, 0).test(e), 5, WAIT);
                assertEquals(5, echo.size(), "B answered 5 echo requests");
                assertEquals(List.of(1, 2, 3, 4, 5), echo.stream().map(IcmpEvent::seq).sorted().toList());
                assertEquals(1, echo.stream().map(IcmpEvent::id).distinct().count(), "one ping process");
                for (IcmpEvent e : echo) {
                    assertEquals(lab.netns(lab.b), e.header().netns());
                    assertTrue(e.icmpNs() > 0 && e.icmpNs() < 10_000_000L, "icmp time: " + e.icmpNs());
                    assertTrue(e.totalNs() >= e.icmpNs(), "total covers the icmp time");
                    assertTrue(e.rx().get("ip") >= 0 && e.rx().get("driver") >= 0 && e.tx().get("driver") >= 0, e.toString());
                }
                // the pinger's side: 5 requests out, 5 replies in
                assertEquals(5, c.await(PacketEvent.class, e -> e.dir().equals("tx") && flow(a, 0, b, 0).test(e), 5, WAIT).size());
                assertEquals(5, c.await(PacketEvent.class, e -> e.dir().equals("rx") && flow(b, 0, a, 0).test(e), 5, WAIT).size());
            }
        }
    }

    /**
     * Two pings at once from the same host to the same host (the original keyed ICMP times by
     * address pair, so concurrent pings collided): each echo is paired with its own reply, by
     * identifier and sequence, for each process.
     */
    @Test
    void concurrentPingsDoNotCollide() throws Exception {
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_ICMP)), Filter.NONE)) {
            Process p1 = lab.spawn(lab.a, "ping", "-4", "-c", "8", "-i", "0.02", Lab.B4);
            Process p2 = lab.spawn(lab.a, "ping", "-4", "-c", "8", "-i", "0.02", Lab.B4);
            for (Process p : List.of(p1, p2)) {
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), "every echo answered");
            }
            List<IcmpEvent> echo = c.await(IcmpEvent.class, e -> flow(Lab.A4, 0, Lab.B4, 0).test(e), 16, WAIT);
            assertEquals(16, echo.size(), "one event per echo of both processes");
            java.util.Map<Integer, List<Integer>> byId = new java.util.TreeMap<>();
            for (IcmpEvent e : echo) byId.computeIfAbsent(e.id(), k -> new java.util.ArrayList<>()).add(e.seq());
            assertEquals(2, byId.size(), "two ping processes, two identifiers: " + byId);
            for (List<Integer> seqs : byId.values()) assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), seqs.stream().sorted().toList());
            for (IcmpEvent e : echo) assertTrue(e.icmpNs() > 0 && e.totalNs() >= e.icmpNs(), e.toString());
        }
    }

    @Test
    void portFilterAppliesToBothDirections() throws Exception {
        int n = 5;
        // -s is the local port for packets in both directions: B's view of the flow to port 9041
        try (Collector c = new Collector(List.of(Probes.packets(PacketProbe.MODE_UDP)), new Filter(0, 9041, 0, null, null))) {
            for (int port : new int[] {9040, 9041}) {
                Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, port, n));
                lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41040, Lab.B4, port, n, 10, 0.01));
                assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
            }
            List<PacketEvent> rx = c.await(PacketEvent.class, e -> e.dir().equals("rx"), n, WAIT);
            // the sentinel: one more datagram to 9041 from another port, after everything else
            Process last = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 9041, 1));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41041, Lab.B4, 9041, 1, 10, 0));
            assertTrue(last.waitFor(15, TimeUnit.SECONDS));
            c.await(PacketEvent.class, e -> e.dir().equals("rx") && e.flow().sport() == 41041, 1, WAIT);
            rx = c.events(PacketEvent.class, e -> e.flow().sport() == 41040);
            assertEquals(n, rx.size(), "only B's receptions on local port 9041: "
                    + Arrays.toString(c.events().toArray()));
            assertTrue(rx.stream().allMatch(e -> e.flow().dport() == 9041));
        }
    }
}
