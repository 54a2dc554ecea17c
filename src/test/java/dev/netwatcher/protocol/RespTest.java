package dev.netwatcher.protocol;

import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RESP values as the specification writes them; a stream fed in pieces, across a gap; random bytes never throw. */
class RespTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void values() {
        Resp.Value cmd = Resp.parse(b("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), 0, 33);
        assertEquals("array", cmd.type());
        assertEquals(List.of("SET", "key"), cmd.words());
        assertEquals(33, cmd.end());
        assertEquals("error", Resp.parse(b("-ERR unknown command\r\n"), 0, 22).type());
        assertEquals("ERR unknown command", Resp.parse(b("-ERR unknown command\r\n"), 0, 22).text());
        assertEquals("null", Resp.parse(b("$-1\r\n"), 0, 5).type());
        assertEquals("map", Resp.parse(b("%1\r\n+a\r\n:1\r\n"), 0, 12).type());
        assertEquals(List.of("PING"), Resp.parse(b("PING\r\n"), 0, 6).words(), "inline");
        assertEquals(Resp.INCOMPLETE, Resp.parse(b("$5\r\nhel"), 0, 7).end());
        assertEquals(Resp.MALFORMED, Resp.parse(b("$x\r\n"), 0, 4).end());
        assertEquals(Resp.MALFORMED, Resp.parse(b("$3\r\nabcXY"), 0, 9).end(), "no CRLF after the bulk");
    }

    private static Segment seg(long seq, String data) {
        return new Segment(new EventHeader(seq, 1, 0, 0, null), Flow.UNKNOWN, 1, seq, true, Segment.Kind.REDIS, data.length(), b(data));
    }

    @Test
    void aStreamJoinsPiecesAndResyncsAfterAGap() {
        RespStream s = new RespStream();
        String two = "*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n";
        assertEquals(0, s.feed(seg(1000, two.substring(0, 10))).size());
        List<RespStream.Message> m = s.feed(seg(1010, two.substring(10)));
        assertEquals(2, m.size());
        assertEquals(1000, m.get(0).header().tsNs(), "a value carries the record its first byte came in");
        assertEquals(1010, m.get(1).header().tsNs());
        assertEquals(0, s.feed(seg(1010, two.substring(10))).size(), "a retransmission is read once");
        // a gap: the next record starts mid-value, then one starts a value
        assertEquals(0, s.feed(seg(5000, "pe\r\n")).size());
        assertEquals(1, s.resyncs);
        assertEquals(1, s.feed(seg(6000, "+OK\r\n")).size());
    }

    @Property(tries = 3000)
    void randomBytesNeverThrow(@ForAll @Size(max = 700) byte[] d) {
        Resp.parse(d, 0, d.length);
        RespStream s = new RespStream();
        for (int at = 0; at < d.length; at += 97) {
            byte[] part = Arrays.copyOfRange(d, at, Math.min(d.length, at + 97));
            s.feed(new Segment(new EventHeader(0, 1, 0, 0, null), Flow.UNKNOWN, 1, at, true, Segment.Kind.REDIS, part.length, part));
        }
        if (d.length > 2) {
            d[0] = '*';
            Resp.parse(d, 0, d.length);
        }
    }
}
