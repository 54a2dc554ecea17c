package dev.netwatcher.sink;

import dev.netwatcher.event.Cgroup;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.event.TcpFlags;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The console line of a packet, now built by hand (Text), is character for character what
 * the Formatter-based code printed: FORMAT, "%-2s %6d %s%s" and "%9s" of "%.1f" µs.
 */
class ConsoleLineTest {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    /**
     * One line written out by hand, column by column as README's console table has them (time 15,
     * event 9, netns 10, pid 7, comm 15, cgroup 24, protocol 5, source 22, destination 22, detail),
     * so that a change of FORMAT itself is seen (the property below compares two ways of laying out
     * the same FORMAT).
     */
    @org.junit.jupiter.api.Test
    void aPacketLineColumnByColumn() throws UnknownHostException {
        long ts = 1_796_601_723_000_042_000L; // 42 µs past a second
        String clock = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault()).format(Instant.ofEpochSecond(0, ts));
        Flow f = new Flow(Flow.AF_INET, 6, InetAddress.getByName("198.18.0.1"), 40000, InetAddress.getByName("198.18.200.254"), 5201);
        EventHeader h = new EventHeader(ts, 4026531840L, 1234, 1234, "iperf3", new Cgroup("/user.slice/user-0.slice/session-1.scope"));
        Layers l = new Layers(Layers.TX, new long[] {12_300, 4_560_000, 0, 7_000}, 0b1011);
        PacketEvent e = new PacketEvent(h, f, "tx", l, 1000, 7, 1448, 3, 0x18, false, false, 8);
        String line = ConsoleSink.line(e);
        assertEquals(clock + ".000042 packet    4026531840 1234    iperf3          \u20260.slice/session-1.scope tcp   198.18.0.1:40000       198.18.200.254:5201    "
                + "tx   1448      12.3    4560.0         -       7.0 seq=1000 " + TcpFlags.format(0x18) + System.lineSeparator(), line);
    }

    @Property(tries = 2000)
    void packetLineIsWhatFormatterPrinted(@ForAll @LongRange(min = 0, max = 4_000_000_000_000_000_000L) long ts,
                                          @ForAll @LongRange(min = 0, max = 100_000_000_000L) long a,
                                          @ForAll @LongRange(min = 0, max = 999_999) long b,
                                          @ForAll @IntRange(min = 0, max = 15) int mask,
                                          @ForAll @IntRange(min = 0, max = 2_000_000) int len,
                                          @ForAll boolean tx, @ForAll boolean v6, @ForAll @IntRange(min = 0, max = 2) int protoPick,
                                          @ForAll @IntRange(min = 0, max = 255) int flags, @ForAll boolean task,
                                          @ForAll @LongRange(min = 0, max = 0xffffffffL) long seq) throws UnknownHostException {
        int proto = protoPick == 0 ? 6 : protoPick == 1 ? 17 : v6 ? 58 : 1;
        InetAddress s = InetAddress.getByName(v6 ? "fd00:198::1" : "198.18.0.1");
        InetAddress d = InetAddress.getByName(v6 ? "fd00:198::abcd:2" : "198.18.200.254");
        Flow f = new Flow(v6 ? Flow.AF_INET6 : Flow.AF_INET, proto, s, proto == 6 || proto == 17 ? 40000 : 0, d,
                proto == 6 || proto == 17 ? 5201 : 0);
        EventHeader h = new EventHeader(ts, task ? 4026531840L : 0, task ? 1234 : 0, task ? 1234 : 0, task ? "iperf3" : null,
                task ? new Cgroup("/user.slice/user-0.slice/session-1.scope") : null);
        long[] ns = {a, b, a / 7, b * 13 + 49};
        Layers l = new Layers(tx ? Layers.TX : Layers.RX, ns, mask);
        PacketEvent e = new PacketEvent(h, f, tx ? "tx" : "rx", l, seq, 7, len, 3, flags, (flags & 1) != 0, false, 8);

        StringBuilder cols = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            if (i > 0) cols.append(' ');
            cols.append(String.format("%9s", l.has(i) ? String.format("%.1f", ns[i] / 1000.0) : "-"));
        }
        String extra = proto == 6 ? " seq=" + seq + " " + TcpFlags.format(flags) + ((flags & 1) != 0 ? " RETRANS" : "")
                : proto == 1 || proto == 58 ? " icmp_type=8" : "";
        String detail = String.format("%-2s %6d %s%s", e.dir(), len, cols, extra);
        String expected = String.format(ConsoleSink.FORMAT, TIME.format(Instant.ofEpochSecond(0, ts)), "packet",
                h.netns() == 0 ? "-" : Long.toString(h.netns()), h.hasTask() ? Integer.toString(h.pid()) : "-",
                h.hasTask() ? h.comm() : "-", task ? "…0.slice/session-1.scope" : "-", f.protoName(), Flow.endpoint(s, f.sport()), Flow.endpoint(d, f.dport()), detail);
        assertEquals(expected, ConsoleSink.line(e));
        assertEquals(detail, e.detail());
    }
}
