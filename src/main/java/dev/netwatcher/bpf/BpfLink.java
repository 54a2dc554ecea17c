package dev.netwatcher.bpf;

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

    @Override
    public synchronized void close() {
        try {
            if (libbpfLink != null) {
                int unused = (int) Libbpf.LINK_DESTROY.invokeExact(libbpfLink);
                libbpfLink = null;
            } else if (fd >= 0) {
                int unused = (int) Native.Libc.CLOSE.invokeExact(fd);
                fd = -1;
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
