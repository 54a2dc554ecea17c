package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An attachment of a program to a hook. Every kind netwatcher creates is owned
 * by a file descriptor (libbpf bpf_link or raw BPF_LINK_CREATE), so the kernel
 * detaches it when the fd closes: on close(), and on any process death.
 */
public final class BpfLink implements AutoCloseable {
    private final String program;
    private MemorySegment libbpfLink;
    private int fd;

    private BpfLink(String program, MemorySegment libbpfLink, int fd) {
        this.program = program;
        this.libbpfLink = libbpfLink;
        this.fd = fd;
    }

    static BpfLink ofLibbpf(String program, MemorySegment link) {
        return new BpfLink(program, link, -1);
    }

    static BpfLink ofFd(String program, int fd) {
        return new BpfLink(program, null, fd);
    }

    public String program() {
        return program;
    }

    private static final int EINTR = 4, EAGAIN = 11;

    /**
     * For a link of an iter/ program: runs the iterator once (bpf_iter_create() and
     * read() until end of file) and returns what the program wrote. The kernel runs
     * it in the reading thread's context, so namespace-scoped iterators (iter/tcp,
     * iter/udp) walk the namespace of the calling thread.
     */
    public synchronized byte[] readIterator() {
        if (libbpfLink == null) throw new IllegalStateException("link of " + program + " is closed or not an iterator");
        try (Arena arena = Arena.ofConfined()) {
            int linkFd = Native.callInt(() -> (int) Libbpf.LINK_FD.invokeExact(libbpfLink));
            int iterFd = Native.callInt(() -> (int) Libbpf.ITER_CREATE.invokeExact(linkFd));
            if (iterFd < 0) throw new BpfException("cannot create an iterator of " + program + ": " + Native.strerror(-iterFd), -iterFd);
            try {
                MemorySegment capture = arena.allocate(Native.CAPTURE);
                MemorySegment buf = arena.allocate(1 << 16);
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                while (true) {
                    long n = Native.call(() -> (long) Native.Libc.READ.invokeExact(capture, iterFd, buf, buf.byteSize()));
                    if (n == 0) break;
                    if (n < 0) {
                        int errno = Native.errno(capture);
                        if (errno == EINTR || errno == EAGAIN) continue;
                        throw new BpfException("reading the iterator of " + program + " failed: " + Native.strerror(errno), errno);
                    }
                    out.writeBytes(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
                return out.toByteArray();
            } finally {
                Native.callInt(() -> (int) Native.Libc.CLOSE.invokeExact(iterFd));
            }
        }
    }

    @Override
    public synchronized void close() {
        if (libbpfLink != null) {
            Native.callInt(() -> (int) Libbpf.LINK_DESTROY.invokeExact(libbpfLink));
            libbpfLink = null;
        } else if (fd >= 0) {
            Native.callInt(() -> (int) Native.Libc.CLOSE.invokeExact(fd));
            fd = -1;
        }
    }
}
