package dev.netwatcher.it;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.TcpStateEvent;
import dev.netwatcher.probe.DecodeContext;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probe;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.probe.Session;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A program the verifier refuses costs only itself: src/test/bpf/refused.bpf.c is the -S object
 * with one more program that no verifier accepts. The session must say which program was
 * refused and why, in one unavailable line, and the -S programs of the same object must still
 * load and report a real connection's state changes.
 */
class RefusalIT {
    /** The test object, decoded as -S. */
    private static final class RefusedProbe implements Probe {
        @Override public String name() { return "refused"; }
        @Override public String option() { return "-S (test object)"; }
        @Override public int eventType() { return Probes.TCP_STATE.eventType(); }
        @Override public int recordSize() { return Probes.TCP_STATE.recordSize(); }
        @Override public boolean witnessed() { return true; }

        @Override
        public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
            return Probes.TCP_STATE.decode(b, off, len, ctx);
        }

        @Override
        public String describe(String program) {
            return program.equals("nw_refused_probe") ? "a program every verifier refuses" : program;
        }
    }

    @Test
    void theOtherProgramsOfARefusedProgramsObjectStillReport() throws Exception {
        assertEquals("root", System.getProperty("user.name"), "kernel tests need root (CI runs them as root)");
        List<Event> events = new CopyOnWriteArrayList<>();
        try (Session s = Session.open(new Session.Config(List.of(new RefusedProbe()), Filter.NONE, false), events::add)) {
            List<String> lost = s.unavailable();
            assertEquals(1, lost.size(), "one line for the one refused program: " + lost);
            String line = lost.get(0);
            assertTrue(line.startsWith("-S (test object) a program every verifier refuses: refused by this kernel's verifier (nw_refused_probe: "),
                    line);
            assertTrue(line.contains("invalid mem access 'scalar'"), "the verifier's reason: " + line);
            assertEquals(List.of("-S (test object)"), s.running(), "the rest of the object runs");

            Thread t = Thread.ofPlatform().start(() -> s.run(4_000_000_000L, () -> {}));
            int port;
            try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = server.getLocalPort();
                try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port); Socket a = server.accept()) {
                    a.getOutputStream().write(1);
                    assertEquals(1, c.getInputStream().read());
                }
            }
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < deadline && states(events, port).size() < 2) Thread.sleep(20);
            s.stop();
            t.join();
            List<String> seen = states(events, port);
            assertTrue(seen.contains("SYN_SENT->ESTABLISHED"), "the client's connect, reported by the object's probe: " + seen);
            assertTrue(seen.contains("CLOSE->SYN_SENT"), seen.toString());
            assertEquals(0, s.missed(), "the witness of the same object counted every hit as run");
        }
    }

    private static List<String> states(List<Event> events, int port) {
        return events.stream().filter(e -> e instanceof TcpStateEvent st && st.flow().dport() == port)
                .map(e -> ((TcpStateEvent) e).oldState() + "->" + ((TcpStateEvent) e).newState()).toList();
    }
}
