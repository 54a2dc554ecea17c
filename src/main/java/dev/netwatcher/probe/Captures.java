package dev.netwatcher.probe;

import dev.netwatcher.event.Frame;

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

    /** Frames given up so far: their record never came. */
    long orphans() {
        return orphans;
    }
}
