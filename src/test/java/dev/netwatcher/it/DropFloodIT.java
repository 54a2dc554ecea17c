package dev.netwatcher.it;

import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -k under a flood, against the kernel's own count of the same drops: every drop is
 * reported, or counted as lost (ring buffer full) or missed (the hook fired and the
 * kernel did not run the probe; see nw_hook_hit() in nw_common.h). A receiver that never
 * reads (4 KiB buffer) takes datagrams from one sender per CPU at full speed: the kernel
 * counts each drop in UdpRcvbufErrors / Udp6RcvbufErrors. SYNs to a port nobody listens
 * on are counted by an nft rule on the receiver's input hook and all dropped (NO_SOCKET).
 */
class DropFloodIT extends LabTest {
    static final double SECONDS = 3;
    static final Pattern DETACHED = Pattern.compile("detached; (\\d+) events, (\\d+) lost \\(ring buffer full\\), (\\d+) missed");
    static final Pattern DROPS = Pattern.compile("^netwatcher_drops_total\\{reason=\"([A-Z_]+)\"} ([0-9.E]+)$");

    record Accounting(long delivered, long lost, long missed, java.util.Map<String, Long> byReason) {}

    /** Runs -k for one destination port in B while flood runs; returns what netwatcher accounted for. */
    Accounting watch(int dport, Runnable flood) throws Exception {
        List<String> err = new CopyOnWriteArrayList<>();
        Process nw = CliIT.startAttached(CliIT.netwatcher("-k", "--metrics", "127.0.0.1:0", "--netns",
                Long.toString(lab.netns(lab.b)), "-d", Integer.toString(dport)).redirectOutput(ProcessBuilder.Redirect.DISCARD), err);
        int metricsPort = CliIT.metricsPort(err);
        try {
            flood.run();
            // let the consumer drain: the count of delivered drops stops moving
            java.util.Map<String, Long> byReason = java.util.Map.of(), last = null;
            for (int i = 0; i < 60 && !byReason.equals(last); i++) {
                last = byReason;
                Thread.sleep(500);
                byReason = drops(metricsPort);
            }
            Lab.run("kill", "-TERM", Long.toString(nw.pid()));
            assertTrue(nw.waitFor(20, TimeUnit.SECONDS));
            for (int i = 0; i < 100 && err.stream().noneMatch(l -> l.contains("detached")); i++) Thread.sleep(50);
            Matcher m = err.stream().map(DETACHED::matcher).filter(Matcher::find).findFirst()
                    .orElseThrow(() -> new AssertionError("no exit line with lost and missed: " + err));
            long delivered = Long.parseLong(m.group(1));
            assertEquals(delivered, byReason.values().stream().mapToLong(Long::longValue).sum(), "metrics saw every event: " + err);
            return new Accounting(delivered, Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), byReason);
        } finally {
            nw.destroyForcibly();
        }
    }

    static java.util.Map<String, Long> drops(int port) throws Exception {
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher m = DROPS.matcher(line);
            if (m.matches()) out.put(m.group(1), (long) Double.parseDouble(m.group(2)));
        }
        return out;
    }

    /** One sender per CPU (drops then happen on every CPU at once), pinned with taskset. */
    void floodFromEveryCpu(String... pythonArgs) {
        int cpus = Math.min(4, Runtime.getRuntime().availableProcessors());
        List<Process> senders = new ArrayList<>();
        for (int cpu = 0; cpu < cpus; cpu++) {
            List<String> cmd = new ArrayList<>(List.of("taskset", "-c", Integer.toString(cpu)));
            cmd.addAll(List.of(Lab.python("flood.py", (Object[]) pythonArgs)));
            senders.add(lab.spawn(lab.a, cmd.toArray(String[]::new)));
        }
        try {
            for (Process p : senders) assertTrue(p.waitFor((long) SECONDS + 20, TimeUnit.SECONDS), "sender finished");
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        } finally {
            senders.forEach(Process::destroyForcibly);
        }
    }

    void udpFlood(String dst, String counter) throws Exception {
        lab.spawnReady(lab.b, Lab.python("flood.py", "sink", dst, 9000));
        long[] truth = new long[1];
        Accounting a = watch(9000, () -> {
            long before = lab.nstat(lab.b, counter);
            floodFromEveryCpu("udp", dst, "9000", Double.toString(SECONDS));
            truth[0] = lab.nstat(lab.b, counter) - before;
        });
        System.out.println("flood " + counter + ": kernel " + truth[0] + ", " + a);
        assertTrue(truth[0] > 100_000, "a flood: " + truth[0] + " drops");
        assertEquals(truth[0], a.byReason().getOrDefault("SOCKET_RCVBUFF", 0L) + a.lost() + a.missed(),
                "reported + lost + missed = the kernel's " + counter + ": " + a);
        assertEquals(a.delivered(), a.byReason().getOrDefault("SOCKET_RCVBUFF", 0L), "only the flood's drops: " + a);
    }

    @Test
    void everyUdpReceiveBufferDropIsReportedOrCountedIPv4() throws Exception {
        udpFlood(Lab.B4, "UdpRcvbufErrors");
        CliIT.awaitClean("udp flood");
    }

    @Test
    void everyUdpReceiveBufferDropIsReportedOrCountedIPv6() throws Exception {
        udpFlood(Lab.B6, "Udp6RcvbufErrors");
        CliIT.awaitClean("udp6 flood");
    }

    @Test
    void everySynToAClosedPortIsReportedOrCounted() throws Exception {
        lab.nft(lab.b, "add table inet nwflood; add counter inet nwflood syns; "
                + "add chain inet nwflood input { type filter hook input priority 0; policy accept; }; "
                + "add rule inet nwflood input tcp dport 9001 tcp flags syn counter name syns");
        Accounting a = watch(9001, () -> floodFromEveryCpu("syn", Lab.A4, Lab.B4, "9001", Double.toString(SECONDS)));
        long truth = lab.nftCounter(lab.b, "nwflood", "syns");
        System.out.println("flood SYN: nft " + truth + ", " + a);
        assertTrue(truth > 20_000, "a flood: " + truth + " SYNs");
        assertEquals(truth, a.byReason().getOrDefault("NO_SOCKET", 0L) + a.lost() + a.missed(),
                "reported + lost + missed = what nft counted: " + a);
        assertEquals(a.delivered(), a.byReason().getOrDefault("NO_SOCKET", 0L), "only the flood's drops: " + a);
        CliIT.awaitClean("syn flood");
    }

    /**
     * The witness itself: with nw_drop detached and its witness still on the hook (a kernel
     * that stops running the probe), every drop of the watched namespace is counted as
     * missed, exactly; drops elsewhere are not.
     */
    @Test
    void dropsAProbeDoesNotRunForAreCountedAsMissed() throws Exception {
        // B must see no drop but the test's: A's IPv6 housekeeping (MLD reports, router solicitations
        // for seconds after the link came up) would arrive in B and some be dropped there
        lab.inNs(lab.a, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.veth0.disable_ipv6=1");
        dev.netwatcher.probe.Filter onlyB = new dev.netwatcher.probe.Filter(lab.netns(lab.b), 0, 0, null, null);
        try (dev.netwatcher.lab.Collector c = new dev.netwatcher.lab.Collector(List.of(dev.netwatcher.probe.Probes.DROP), onlyB)) {
            // datagrams to a port nobody listens on in B: NO_SOCKET drops
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41070, Lab.B4, 9070, 40, 32, 0.001));
            c.await(dev.netwatcher.event.DropEvent.class, e -> e.flow().dport() == 9070, 40, java.time.Duration.ofSeconds(5));
            assertEquals(0, c.session().missed(), "nothing missed while the probe runs");
            c.session().detachProgram("nw_drop");
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41071, Lab.B4, 9071, 25, 32, 0.001));
            // and 10 to a closed port on A's loopback: dropped in A, not watched (and no ICMP error reaches B)
            lab.inNs(lab.a, Lab.python("udp_send.py", "127.0.0.1", 41072, "127.0.0.1", 9072, 10, 32, 0.001));
            // B's backlog is processed in a softirq that may run after the sender returned
            for (int i = 0; i < 100 && c.session().missed() < 25; i++) Thread.sleep(20);
            assertEquals(25, c.session().missed(), "every hit in B after the probe went away");
            assertTrue(c.events(dev.netwatcher.event.DropEvent.class, e -> e.flow().dport() == 9071).isEmpty());
        }
        CliIT.awaitClean("witness test");
    }
}
