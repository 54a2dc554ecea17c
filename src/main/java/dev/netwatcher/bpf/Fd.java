package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** A file descriptor opened with open(2), closed on close(). */
record Fd(int fd) implements AutoCloseable {
    private static final MethodHandle OPEN = Native.libcErrno("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final int O_RDONLY = 0, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000;

    static Fd openDirectory(Path dir) {
        return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }

    static Fd openReadOnly(Path file) {
        return open(file, O_RDONLY | O_CLOEXEC);
    }

    private static Fd open(Path dir, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            int fd = Native.callInt(() -> (int) OPEN.invokeExact(capture, arena.allocateFrom(dir.toString()), flags));
            if (fd < 0) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot open " + dir + ": " + Native.strerror(errno), errno);
            }
            return new Fd(fd);
        }
    }

    @Override
    public void close() {
        Native.callInt(() -> (int) Native.Libc.CLOSE.invokeExact(fd));
    }
}
