package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Downcall plumbing for libbpf.so.1, libpcap and libc. The only class that looks up native symbols. */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();
    static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(groupElement("errno"));
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static SymbolLookup libbpf;

    private Native() {}

    static synchronized SymbolLookup libbpf() {
        if (libbpf == null) {
            try {
                libbpf = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
            } catch (IllegalArgumentException e) {
                throw new BpfException("libbpf.so.1 not found: install it with 'apt-get install libbpf1'");
            }
        }
        return libbpf;
    }

    private static SymbolLookup libpcap;

    /** The system's libpcap (Debian: libpcap0.8, whose library is libpcap.so.0.8). */
    static synchronized SymbolLookup libpcap() {
        if (libpcap == null) {
            for (String lib : new String[] {"libpcap.so.1", "libpcap.so.0.8", "libpcap.so"}) {
                try {
                    libpcap = SymbolLookup.libraryLookup(lib, Arena.global());
                    break;
                } catch (IllegalArgumentException e) {
                    // the next name
                }
            }
            if (libpcap == null) throw new BpfException("libpcap not found: install it with 'apt-get install libpcap0.8'");
        }
        return libpcap;
    }

    static MethodHandle pcap(String name, FunctionDescriptor fd) {
        MemorySegment sym = libpcap().find(name).orElseThrow(() -> new BpfException("libpcap has no symbol " + name));
        return LINKER.downcallHandle(sym, fd);
    }

    static MethodHandle bpf(String name, FunctionDescriptor fd) {
        MemorySegment sym = libbpf().find(name)
                .orElseThrow(() -> new BpfException("libbpf.so.1 has no symbol " + name + " (libbpf >= 1.1 needed)"));
        return LINKER.downcallHandle(sym, fd);
    }

    /** A libbpf function returning a pointer that is NULL with errno set on failure. */
    static MethodHandle bpfErrno(String name, FunctionDescriptor fd) {
        MemorySegment sym = libbpf().find(name)
                .orElseThrow(() -> new BpfException("libbpf.so.1 has no symbol " + name));
        return LINKER.downcallHandle(sym, fd, Linker.Option.captureCallState("errno"));
    }

    static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = LIBC.find(name).orElseThrow(() -> new BpfException("libc has no symbol " + name));
        return LINKER.downcallHandle(sym, fd, options);
    }

    static MethodHandle libcErrno(String name, FunctionDescriptor fd) {
        return libc(name, fd, Linker.Option.captureCallState("errno"));
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Libc.STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** A native call (an invokeExact and what depends on it) that may throw what a method handle throws. */
    @FunctionalInterface
    interface Call<T> {
        T call() throws Throwable;
    }

    @FunctionalInterface
    interface IntCall {
        int call() throws Throwable;
    }

    @FunctionalInterface
    interface VoidCall {
        void call() throws Throwable;
    }

    /*
     * Setup calls (open, load, attach, map and program queries) go through these: a BpfException
     * passes, anything else a method handle throws becomes one. Per-event paths (the ring buffer,
     * epoll) keep their own try/catch around invokeExact, with no lambda in between.
     */
    static <T> T call(Call<T> c) {
        try {
            return c.call();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int callInt(IntCall c) {
        try {
            return c.call();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void run(VoidCall c) {
        try {
            c.call();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new BpfException("native call failed: " + t);
    }

    /** glibc's malloc_trim(pad) (gives free memory of every malloc arena back to the kernel), or null elsewhere. */
    static final class MallocTrim {
        static final MethodHandle HANDLE = LIBC.find("malloc_trim")
                .map(sym -> LINKER.downcallHandle(sym, FunctionDescriptor.of(JAVA_INT, JAVA_LONG))).orElse(null);

        private MallocTrim() {}
    }

    static final class Libc {
        static final MethodHandle STRERROR = libc("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle SYSCONF = libc("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle READ = libcErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle MMAP = libcErrno("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle EPOLL_CREATE1 = libcErrno("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle EPOLL_CTL = libcErrno("epoll_ctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle EPOLL_WAIT = libcErrno("epoll_wait",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        /** syscall(long nr, ...): variadic; all our arguments after nr are passed as longs/pointers. */
        static final MethodHandle SYSCALL4 = LINKER.downcallHandle(
                LIBC.find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

        private Libc() {}
    }
}
