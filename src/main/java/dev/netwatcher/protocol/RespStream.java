package dev.netwatcher.protocol;

import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One direction of a Redis connection, rebuilt from the payload records in sequence order (each
 * Redis segment is copied whole, in 511-byte records; bpf/payload.bpf.c): complete RESP values
 * come out with the header of the record their first byte came in. A gap in the sequence (a
 * segment longer than the kernel copies, a record lost) or bytes that are not RESP drop what was
 * buffered; the stream then waits for a record that starts a value. Bounded: a value that does
 * not fit in {@link #MAX_BUFFER} bytes (a large bulk string) is dropped the same way.
 */
final class RespStream {
    static final int MAX_BUFFER = 1 << 16;

    record Message(Resp.Value value, EventHeader header, Flow flow) {}

    private byte[] buf = new byte[1024];
    private int len;
    private long nextSeq = -1;
    private boolean synced = true;
    private EventHeader startHeader;
    private Flow startFlow;
    /** How often the stream lost its place (gaps, garbage, values too large). */
    long resyncs;

    /** Feeds one record; returns the values it completed (in order). */
    List<Message> feed(Segment s) {
        byte[] d = s.data();
        int from = 0;
        if (nextSeq >= 0) {
            int delta = (int) (s.seq() - nextSeq); // TCP sequence arithmetic (mod 2^32)
            if (delta < 0) { // a retransmission of bytes already read (or partly)
                if (-delta >= d.length) return List.of();
                from = -delta;
            } else if (delta > 0) {
                lose();
            }
        }
        nextSeq = (s.seq() + d.length) & 0xffffffffL;
        if (d.length - from <= 0) return List.of();
        if (!synced) { // wait for a record that starts with a value
            if (!startsValue(d[from])) return List.of();
            synced = true;
        }
        if (len == 0) {
            startHeader = s.header();
            startFlow = s.flow();
        }
        append(d, from, d.length - from);
        List<Message> out = new ArrayList<>();
        int at = 0;
        while (at < len) {
            Resp.Value v = Resp.parse(buf, at, len);
            if (v.end() == Resp.INCOMPLETE) break;
            if (v.end() == Resp.MALFORMED) {
                lose();
                return out;
            }
            out.add(new Message(v, startHeader, startFlow));
            at = v.end();
            startHeader = s.header(); // the next value starts in this record
            startFlow = s.flow();
        }
        System.arraycopy(buf, at, buf, 0, len - at);
        len -= at;
        if (len > MAX_BUFFER) lose();
        return out;
    }

    private void append(byte[] d, int from, int n) {
        if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        System.arraycopy(d, from, buf, len, n);
        len += n;
    }

    private void lose() {
        resyncs++;
        len = 0;
        synced = false;
        if (buf.length > 4096) buf = new byte[1024];
    }

    /** A RESP type byte; not a letter: an inline command is taken only in sync (a letter mid-value would look like one). */
    private static boolean startsValue(byte b) {
        return "*+-:$_,#(=%~>!|".indexOf(b) >= 0;
    }
}
