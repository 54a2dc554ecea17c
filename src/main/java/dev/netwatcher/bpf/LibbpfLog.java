package dev.netwatcher.bpf;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * libbpf's messages (libbpf_set_print): on stderr only with --debug, and the warnings of a
 * load kept for the thread that loads, so that a refused load can say which program the
 * verifier refused and why (bpf_object__load() stops at the first program the kernel
 * refuses and prints "prog 'NAME': BPF program load failed" with the verifier's log).
 */
final class LibbpfLog {
    /* enum libbpf_print_level */
    private static final int LIBBPF_WARN = 0, LIBBPF_INFO = 1;
    /** libbpf_print_fn_t: int (*)(enum libbpf_print_level, const char *fmt, va_list ap). */
    private static final FunctionDescriptor PRINT_FN = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle VSNPRINTF = Native.libc("vsnprintf",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    /** sizeof(va_list) where it is a struct passed by reference (x86-64: 24 bytes; aarch64: 32). */
    private static final long VA_LIST_BYTES = 32;
    private static final ThreadLocal<StringBuilder> CAPTURE = new ThreadLocal<>();
    private static volatile boolean verbose;
    private static MemorySegment printer;

    private LibbpfLog() {}

    /**
     * Shows libbpf's warnings and information on stderr (--debug), or nothing: then libbpf has no
     * print function at all until a capture needs one (an upcall per message costs, and making the
     * upcall stub took ~50 ms of start-up).
     */
    static synchronized void setVerbose(boolean on) {
        verbose = on;
        if (on) install();
        else if (printer == null) Native.call(() -> (MemorySegment) Libbpf.SET_PRINT.invokeExact(MemorySegment.NULL));
    }

    /** Runs a libbpf call and returns the warnings libbpf printed meanwhile on this thread. */
    static String capture(Runnable call) {
        install();
        StringBuilder sb = new StringBuilder();
        CAPTURE.set(sb);
        try {
            call.run();
        } finally {
            CAPTURE.remove();
        }
        return sb.toString();
    }

    private static synchronized void install() {
        if (printer != null) return;
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(LibbpfLog.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            printer = Native.LINKER.upcallStub(target, PRINT_FN, Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        MemorySegment p = printer;
        Native.call(() -> (MemorySegment) Libbpf.SET_PRINT.invokeExact(p));
    }

    /** The upcall: formats the message with the C library (the arguments are a va_list). Never throws. */
    private static int print(int level, MemorySegment fmt, MemorySegment ap) {
        StringBuilder capture = CAPTURE.get();
        boolean show = verbose && level <= LIBBPF_INFO;
        if (!show && (capture == null || level != LIBBPF_WARN)) return 0;
        try (Arena arena = Arena.ofConfined()) {
            // vsnprintf consumes ap: measure on a copy (va_copy is a plain copy of the struct)
            MemorySegment copy = arena.allocate(VA_LIST_BYTES, 16);
            MemorySegment.copy(ap.reinterpret(VA_LIST_BYTES), 0, copy, 0, VA_LIST_BYTES);
            int n = (int) VSNPRINTF.invokeExact(MemorySegment.NULL, 0L, fmt, copy);
            if (n < 0) return 0;
            MemorySegment buf = arena.allocate(n + 1L);
            int m = (int) VSNPRINTF.invokeExact(buf, n + 1L, fmt, ap);
            String text = new String(buf.asSlice(0, Math.min(n, Math.max(0, m))).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
            if (capture != null && level == LIBBPF_WARN) capture.append(text);
            if (show) {
                PrintStream err = System.err;
                err.print("libbpf: " + text);
                err.flush();
            }
        } catch (Throwable t) {
            // a message lost is better than a crash inside libbpf
        }
        return 0;
    }
}
