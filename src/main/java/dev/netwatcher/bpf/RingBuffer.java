package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF_MAP_TYPE_RINGBUF read straight from its mapped memory, without libbpf's
 * callback (an exception in an upcall would kill the JVM) and without copying.
 * Layout (kernel/bpf/ringbuf.c): a consumer page (RW), then a producer page and the
 * data area mapped twice back to back (RO), so a wrapped record is contiguous.
 * Each record has an 8-byte header: u32 len with BUSY (bit 31) and DISCARD (bit 30).
 */
public final class RingBuffer implements AutoCloseable {
    private static final int BUSY = 1 << 31, DISCARD = 1 << 30, HDR = 8;
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final String name;
    final int fd;
    private final long page, size, mask;
    private MemorySegment consumer, producer;
    private final MemorySegment data;
    private final ByteBuffer view;
    private long consumerPos;

    public RingBuffer(BpfMap map) {
        if (map.type() != BpfMap.TYPE_RINGBUF) throw new BpfException(map.name() + " is not a ring buffer");
        this.name = map.name();
        this.fd = map.fd();
        this.size = Integer.toUnsignedLong(map.maxEntries());
        this.mask = size - 1;
        try {
            this.page = (long) Native.Libc.SYSCONF.invokeExact(30 /* _SC_PAGESIZE */);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        this.consumer = mmap(page, PROT_READ | PROT_WRITE, 0);
        try {
            this.producer = mmap(page + 2 * size, PROT_READ, page);
        } catch (RuntimeException e) {
            munmap(consumer, page);
            throw e;
        }
        this.data = producer.asSlice(page, 2 * size);
        this.view = data.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        this.consumerPos = (long) LONG.getAcquire(consumer, 0L);
    }

    public String name() {
        return name;
    }

    private MemorySegment mmap(long length, int prot, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            MemorySegment p = (MemorySegment) Native.Libc.MMAP.invokeExact(capture, MemorySegment.NULL, length, prot,
                    MAP_SHARED, fd, offset);
            if (p.address() == -1L) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot map ring buffer " + name + ": " + Native.strerror(errno), errno);
            }
            return p.reinterpret(length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static void munmap(MemorySegment s, long length) {
        try {
            int unused = (int) Native.Libc.MUNMAP.invokeExact(s, length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Bytes produced and not yet consumed. */
    public long pending() {
        return (long) LONG.getAcquire(producer, 0L) - consumerPos;
    }

    /**
     * Hands every committed record to the handler, at most {@code max}, and returns
     * how many. consumer_pos is published after each batch (release), so the
     * kernel may reuse the space only after the handler has read it.
     */
    public int consume(RecordHandler handler, int max) {
        long prod = (long) LONG.getAcquire(producer, 0L);
        long pos = consumerPos;
        int n = 0;
        try {
            while (pos < prod && n < max) {
                long off = pos & mask;
                int len = (int) INT.getAcquire(data, off);
                if ((len & BUSY) != 0) break; // reserved, not committed yet: stop here
                int length = len & ~(BUSY | DISCARD);
                if ((len & DISCARD) == 0) {
                    handler.onRecord(view, (int) off + HDR, length);
                    n++;
                }
                pos += (length + HDR + 7) & ~7L;
            }
        } finally {
            consumerPos = pos;
            LONG.setRelease(consumer, 0L, pos);
        }
        return n;
    }

    @Override
    public void close() {
        if (consumer != null) {
            munmap(consumer, page);
            munmap(producer, page + 2 * size);
            consumer = null;
            producer = null;
        }
    }
}
