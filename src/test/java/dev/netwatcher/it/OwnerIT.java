package dev.netwatcher.it;

import dev.netwatcher.bpf.Cgroups;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whose events: the kernel hands netwatcher a drop at a full receive queue and a retransmission
 * from the RTO timer in softirq, where the current task is whatever ran on that CPU. The socket's
 * owner (socket storage, owner.bpf.c) names the process the test started, with the cgroup the
 * test made and the name it gave it; --cgroup, --pid and --comm keep only that process's events,
 * in the kernel. Ground truth: the pids the test's processes have (cgroup.procs, Process.pid(),
 * checked against /proc/PID/comm).
 */
class OwnerIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(8);

    @Test
    void dropsAtAFullReceiveQueueNameTheReceiverAndCgroupKeepsOnlyItsOwn() throws Exception {
        Path root = Cgroups.v2Root();
        String name = "nwtest-owner-" + ProcessHandle.current().pid();
        Path cg = root.resolve(name);
        Files.createDirectories(cg);
        List<Process> procs = new ArrayList<>();
        try {
            // two receivers that read nothing for 6 s; their sockets exist before netwatcher starts. One is
            // moved into the cgroup before it makes its socket (from here: `ip netns exec` mounts its own /sys)
            Process inside = lab.spawnReady(lab.b, owned("-", "nwrecv1", "--wait", "udp_stall_recv.py", Lab.B4, 8101, 0, 1, 6));
            procs.add(inside);
            Files.writeString(cg.resolve("cgroup.procs"), Long.toString(inside.pid()));
            inside.getOutputStream().write('\n');
            inside.getOutputStream().flush();
            assertEquals("ready", Lab.readLine(inside.getInputStream()));
            Process outside = lab.spawnReady(lab.b, owned("-", "nwrecv2", "udp_stall_recv.py", Lab.B4, 8102, 0, 1, 6));
            procs.add(outside);
            long insidePid = Long.parseLong(Files.readString(cg.resolve("cgroup.procs")).strip());
            assertEquals(inside.pid(), insidePid, "the receiver is the one process in the test's cgroup");
            assertEquals("nwrecv1", comm(insidePid));
            assertEquals("nwrecv2", comm(outside.pid()));
            long id = (Long) Files.getAttribute(cg, "unix:ino");
            Filter netnsB = new Filter(lab.netns(lab.b), 0, 0, null, null);
            try (Collector mine = new Collector(List.of(Probes.DROP), netnsB.withOwner(0, null, id));
                 Collector all = new Collector(List.of(Probes.DROP), netnsB)) {
                // 2000 datagrams of 1400 bytes each: the 212 KiB default receive buffer holds ~150
                lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41101, Lab.B4, 8101, 2000, 1400, 0.0));
                lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41102, Lab.B4, 8102, 2000, 1400, 0.0));
                lab.tryInNs(lab.a, "socat", "-u", "-", "TCP4:" + Lab.B4 + ":8103"); // no socket: no owner
                List<DropEvent> theirs = all.await(DropEvent.class, d -> d.flow().dport() == 8102, 1, WAIT);
                all.await(DropEvent.class, d -> d.flow().dport() == 8103, 1, WAIT);
                List<DropEvent> ours = mine.await(DropEvent.class, d -> d.flow().dport() == 8101, 1, WAIT);
                mine.settled(DropEvent.class, d -> true);

                assertFalse(ours.isEmpty(), "drops at the full queue of the receiver in the cgroup: " + mine.events());
                for (Event e : mine.events()) {
                    DropEvent d = (DropEvent) e;
                    assertEquals(8101, d.flow().dport(), "--cgroup keeps only the cgroup's receiver: " + d);
                    assertEquals("SOCKET_RCVBUFF", d.reason(), d.toString());
                    assertEquals(insidePid, d.header().pid(), "the receiver's pid: " + d);
                    assertEquals("nwrecv1", d.header().comm(), d.toString());
                    assertEquals("/" + name, d.header().cgroup().path(), d.toString());
                }
                // every drop at a full queue in B, both receivers': exactly what the kernel counted
                List<DropEvent> full = all.settled(DropEvent.class, d -> d.reason().equals("SOCKET_RCVBUFF"));
                long rcvbufErrors = lab.nstat(lab.b, "UdpRcvbufErrors");
                assertEquals(rcvbufErrors, full.size() + all.session().lost() + all.session().missed(),
                        "drops reported + lost + missed against UdpRcvbufErrors");
                if (all.session().missed() == 0 && mine.session().missed() == 0) { // each session's own hits, else not comparable
                    assertEquals(full.stream().filter(d -> d.flow().dport() == 8101).count(), mine.events().size(),
                            "--cgroup kept every drop of its receiver");
                }
                for (DropEvent d : all.events(DropEvent.class, d -> d.flow().dport() == 8102)) {
                    assertEquals(outside.pid(), d.header().pid(), "the other receiver's pid: " + d);
                    assertEquals("nwrecv2", d.header().comm(), d.toString());
                    assertTrue(!d.header().cgroup().path().equals("/" + name), d.toString());
                }
                DropEvent knock = all.events(DropEvent.class, d -> d.flow().dport() == 8103).get(0);
                assertEquals("NO_SOCKET", knock.reason());
                assertEquals(0, knock.header().pid(), "a packet no socket took has no owner: " + knock);
                assertEquals(0, mine.session().lost());
            }
        } finally {
            for (Process p : procs) {
                p.destroyForcibly();
                p.waitFor();
            }
            Lab.removeCgroup(cg);
        }
    }

    @Test
    void timerRetransmissionsNameTheSenderAndPidAndCommKeepOnlyItsOwn() throws Exception {
        lab.spawn(lab.b, "socat", "-u", "TCP4-LISTEN:8201,reuseaddr,fork", "OPEN:/dev/null,wronly");
        lab.spawn(lab.b, "socat", "-u", "TCP4-LISTEN:8202,reuseaddr,fork", "OPEN:/dev/null,wronly");
        lab.awaitListening(lab.b, "t", 8201);
        lab.awaitListening(lab.b, "t", 8202);
        Filter netnsA = new Filter(lab.netns(lab.a), 0, 0, null, null);
        Process one = lab.spawnReady(lab.a, owned("-", "nwsend1", "--wait", "tcp_send.py", 41201, Lab.B4, 8201, 6, 200, 0.25));
        Process two = lab.spawnReady(lab.a, owned("-", "nwsend2", "--wait", "tcp_send.py", 41202, Lab.B4, 8202, 6, 200, 0.25));
        assertEquals("nwsend1", comm(one.pid()));
        assertEquals("nwsend2", comm(two.pid()));
        // nft drops every data segment to 8201 and 8202 for a while: the senders retransmit from their timers
        lab.nft(lab.b, "add table inet nwown; add counter inet nwown dropped; "
                + "add chain inet nwown input { type filter hook input priority 0; policy accept; }; "
                + "add rule inet nwown input tcp dport { 8201, 8202 } meta length > 80 counter name dropped drop");
        try (Collector all = new Collector(List.of(Probes.RETRANS), netnsA);
             Collector byPid = new Collector(List.of(Probes.RETRANS), netnsA.withOwner((int) one.pid(), null, 0));
             Collector byComm = new Collector(List.of(Probes.RETRANS), netnsA.withOwner(0, "nwsend2", 0))) {
            for (Process p : List.of(one, two)) {
                p.getOutputStream().write('\n');
                p.getOutputStream().flush();
            }
            for (int i = 0; i < 200 && lab.nftCounter(lab.b, "nwown", "dropped") < 16; i++) Thread.sleep(25);
            lab.nft(lab.b, "delete table inet nwown");
            assertTrue(one.waitFor(20, java.util.concurrent.TimeUnit.SECONDS) && two.waitFor(20, java.util.concurrent.TimeUnit.SECONDS),
                    "the senders finished");
            all.await(RetransEvent.class, r -> r.flow().sport() == 41201, 1, WAIT);
            all.await(RetransEvent.class, r -> r.flow().sport() == 41202, 1, WAIT);
            all.settled(RetransEvent.class, r -> true);

            for (long[] sender : new long[][] {{41201, one.pid()}, {41202, two.pid()}}) {
                List<RetransEvent> r = all.events(RetransEvent.class, e -> e.flow().sport() == sender[0]);
                assertTrue(r.stream().anyMatch(e -> e.caState().equals("Loss")), "a retransmission timeout (Loss): " + r);
                for (RetransEvent e : r) assertEquals(sender[1], e.header().pid(), "the sender, also from the timer: " + e);
            }
            assertEquals("nwsend1", all.events(RetransEvent.class, e -> e.flow().sport() == 41201).get(0).header().comm());
            List<RetransEvent> mine = byPid.settled(RetransEvent.class, r -> true);
            assertFalse(mine.isEmpty(), "--pid keeps the sender's: " + all.events());
            for (RetransEvent e : mine) {
                assertEquals(41201, e.flow().sport(), "--pid keeps only its process: " + e);
                assertEquals(one.pid(), e.header().pid());
            }
            List<RetransEvent> named = byComm.settled(RetransEvent.class, r -> true);
            assertFalse(named.isEmpty(), "--comm keeps the named sender's: " + all.events());
            for (RetransEvent e : named) {
                assertEquals(41202, e.flow().sport(), "--comm keeps only that name: " + e);
                assertEquals("nwsend2", e.header().comm());
            }
        } finally {
            lab.tryInNs(lab.b, "nft", "delete table inet nwown");
        }
    }

    /** script as a process in cgroup (a directory, or "-"), named comm; args may start with "--wait" (as_owner.py). */
    private static String[] owned(String cgroup, String comm, String script, Object... args) {
        boolean wait = "--wait".equals(script);
        if (wait) {
            script = (String) args[0];
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        String[] py = Lab.python(script, args);
        String[] wrap = wait ? Lab.python("as_owner.py", cgroup, comm, "--wait") : Lab.python("as_owner.py", cgroup, comm);
        String[] cmd = new String[wrap.length + py.length - 1];
        System.arraycopy(wrap, 0, cmd, 0, wrap.length);
        System.arraycopy(py, 1, cmd, wrap.length, py.length - 1); // the script and its args, without "python3"
        return cmd;
    }

    private static String comm(long pid) throws java.io.IOException {
        return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
    }
}
