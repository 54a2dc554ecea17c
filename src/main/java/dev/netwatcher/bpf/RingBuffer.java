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
 * data area (RO). The kernel lets a reader map the data area twice back to back, so that a
 * record that wraps reads in one piece, as libbpf does; every page of such a mapping is
 * mapped at mmap() and counts in the RSS, twice. This reader maps it once and copies the
 * rare wrapped record into a scratch buffer instead.
 * Each record has an 8-byte header: u32 len with BUSY (bit 31) and DISCARD (bit 30); records
 * are 8-byte aligned, so a header never wraps.
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
    /** A record that wraps around the end of the data area, put together. */
    private ByteBuffer wrapped;

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
            this.producer = mmap(page + size, PROT_READ, page);
        } catch (RuntimeException e) {
            munmap(consumer, page);
            throw e;
        }
        this.data = producer.asSlice(page, size);
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
                    long body = (off + HDR) & mask;
                    if (body + length <= size) {
                        handler.onRecord(view, (int) body, length);
                    } else { // wraps: the end of the data area, then its start
                        if (wrapped == null || wrapped.capacity() < length) {
                            wrapped = Buffers.allocate(Math.max(length, 4096)); // direct, like view: see Buffers
                        }
                        int first = (int) (size - body);
                        MemorySegment.copy(data, body, MemorySegment.ofBuffer(wrapped), 0, first);
                        MemorySegment.copy(data, 0, MemorySegment.ofBuffer(wrapped), first, length - first);
                        handler.onRecord(wrapped, 0, length);
                    }
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
            munmap(producer, page + size);
            consumer = null;
            producer = null;
        }
    }
}
