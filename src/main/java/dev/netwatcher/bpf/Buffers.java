package dev.netwatcher.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Little-endian buffers for the generated layout accessors (dev.netwatcher.contract). Records
 * from the ring buffers arrive as direct buffers over the mapped memory; every other byte source
 * that reaches an accessor (map lookups, iterator reads, keys) is copied into a direct buffer too,
 * so that each accessor only ever sees one ByteBuffer class. A heap buffer reaching an accessor
 * the JIT had compiled for direct ones costs a deoptimisation ("class_check") and a recompilation
 * each time the periodic reader runs: 0.5 µs of C2 time per record under -t (bench/profile.sh).
 */
public final class Buffers {
    private Buffers() {}

    /** A direct little-endian copy of {@code bytes}, positioned at 0. */
    public static ByteBuffer direct(byte[] bytes) {
        return direct(bytes, 0, bytes.length);
    }

    /** A direct little-endian copy of {@code len} bytes from {@code off}, positioned at 0. */
    public static ByteBuffer direct(byte[] bytes, int off, int len) {
        ByteBuffer b = ByteBuffer.allocateDirect(Math.max(len, 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, bytes, off, len);
        return len == 0 ? b.limit(0) : b;
    }

    /** An empty direct little-endian buffer of {@code capacity} bytes. */
    public static ByteBuffer allocate(int capacity) {
        return ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }
}
