package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Waits on several ring buffers with one epoll set and drains them. Ring buffer
 * fds are level-triggered (EPOLLIN while producer != consumer). Call from one
 * platform thread: epoll_wait blocks in native code.
 */
public final class RingBufferPoller implements AutoCloseable {
    private static final int EPOLL_CTL_ADD = 1, EPOLLIN = 1, EVENT_SIZE = 12; // struct epoll_event is packed on x86-64
    private static final int BATCH = 4096;

    private final Arena arena = Arena.ofShared();
    private final List<RingBuffer> rings = new ArrayList<>();
    private final MemorySegment events;
    private final MemorySegment capture;
    private int epfd;

    public RingBufferPoller() {
        events = arena.allocate(EVENT_SIZE * 16L, 8);
        capture = arena.allocate(Native.CAPTURE);
        try {
            epfd = (int) Native.Libc.EPOLL_CREATE1.invokeExact(capture, 0x80000 /* EPOLL_CLOEXEC */);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (epfd < 0) throw new BpfException("epoll_create1 failed: " + Native.strerror(Native.errno(capture)));
    }

    public void add(RingBuffer ring) {
        MemorySegment ev = arena.allocate(EVENT_SIZE, 8);
        ev.set(JAVA_INT, 0, EPOLLIN);
        ev.set(JAVA_LONG.withByteAlignment(4), 4, rings.size());
        try {
            int rc = (int) Native.Libc.EPOLL_CTL.invokeExact(capture, epfd, EPOLL_CTL_ADD, ring.fd, ev);
            if (rc < 0) throw new BpfException("epoll_ctl failed: " + Native.strerror(Native.errno(capture)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        rings.add(ring);
    }

    public List<RingBuffer> rings() {
        return List.copyOf(rings);
    }

    /** Waits up to timeoutMs for data, then drains every ring. Returns the number of records handled. */
    public int poll(int timeoutMs, RecordHandler handler) {
        int total = drain(handler);
        if (total > 0) return total;
        try {
            int n = (int) Native.Libc.EPOLL_WAIT.invokeExact(capture, epfd, events, 16, timeoutMs);
            if (n < 0 && Native.errno(capture) != 4 /* EINTR */)
                throw new BpfException("epoll_wait failed: " + Native.strerror(Native.errno(capture)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return drain(handler);
    }

    /** Drains every ring without waiting. */
    public int drain(RecordHandler handler) {
        int total = 0;
        for (RingBuffer r : rings) {
            int n;
            do {
                n = r.consume(handler, BATCH);
                total += n;
            } while (n == BATCH);
        }
        return total;
    }

    @Override
    public void close() {
        if (epfd >= 0) {
            try {
                int unused = (int) Native.Libc.CLOSE.invokeExact(epfd);
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            epfd = -1;
            arena.close();
        }
    }
}
