package dev.netwatcher.probe;

import dev.netwatcher.contract.CaptureEventLayout;
import dev.netwatcher.contract.NwCaptureDir;
import dev.netwatcher.contract.NwHdrLayout;
import dev.netwatcher.event.Frame;

import java.nio.ByteBuffer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * -w: frames waiting for their packet's record. The kernel puts a packet's capture_event in the
 * ring before its record (driver start before the driver's end; LOCAL_IN before the socket), and
 * the record names it by cap_key. A received TCP segment waits until the application reads it,
 * so up to a socket buffer's worth waits here; beyond LIMIT the oldest frame is given up and
 * counted (its packet was dropped after the capture, its reader was filtered out, or its record was lost).
 */
final class Captures {
    static final int LIMIT = 8192; // at most 8192 x 4 KiB (NW_CAP_MAX); headers only (about 66 bytes) for most TCP

    private final Map<Long, Frame> waiting = new LinkedHashMap<>(1024, 0.75f, false);
    private long orphans;

    void put(long key, Frame f) {
        if (waiting.put(key, f) != null) orphans++; // two packets with one timestamp: the first gives way
        if (waiting.size() > LIMIT) {
            var it = waiting.entrySet().iterator();
            it.next();
            it.remove();
            orphans++;
        }
    }

    /** The frame of the record whose cap_key is key, or null. */
    Frame take(long key) {
        return key == 0 || waiting.isEmpty() ? null : waiting.remove(key);
    }

    /** Keeps the capture_event at off under its key (hdr.ts_ns). */
    void put(ByteBuffer b, int off, int len, DecodeContext ctx) {
        put(NwHdrLayout.tsNs(b, off), frame(b, off, len, ctx));
    }

    static Frame frame(ByteBuffer b, int off, int len, DecodeContext ctx) {
        int cap = Math.min(CaptureEventLayout.capLen(b, off), Math.max(0, len - CaptureEventLayout.DATA));
        byte[] data = new byte[cap];
        b.get(off + CaptureEventLayout.DATA, data);
        int dir = CaptureEventLayout.dir(b, off);
        return new Frame(ctx.clock().toEpochNs(NwHdrLayout.tsNs(b, off)), Integer.toUnsignedLong(NwHdrLayout.netns(b, off)),
                CaptureEventLayout.ifindex(b, off), Records.comm(b, off + CaptureEventLayout.IFNAME),
                dir == NwCaptureDir.NW_CAP_RX ? "rx" : dir == NwCaptureDir.NW_CAP_DROP ? "drop" : "tx",
                CaptureEventLayout.link(b, off), CaptureEventLayout.wireLen(b, off), data);
    }

    /** Frames given up so far: their record never came. */
    long orphans() {
        return orphans;
    }
}
