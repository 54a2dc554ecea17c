package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Signal dispositions the JVM will not change. A shell starts background jobs with
 * SIGINT ignored (`cmd &` in a script), and HotSpot keeps an inherited SIG_IGN for
 * SIGINT: neither its shutdown handler nor sun.misc.Signal.handle() replaces it, so
 * `kill -INT` would not stop netwatcher. tcpdump and the C tools do stop.
 */
public final class Signals {
    private static final int SIGINT = 2;
    private static final long SIG_DFL = 0, SIG_IGN = 1;
    /** struct sigaction (glibc): the handler comes first, the whole struct is 152 bytes on 64-bit Linux. */
    private static final int SIGACTION_SIZE = 152;
    private static final MethodHandle SIGACTION = Native.libc("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGNAL = Native.libc("signal", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG));

    private Signals() {}

    /**
     * If SIGINT is ignored (inherited SIG_IGN), makes it default again and returns true: the
     * caller can then install its own handler (sun.misc.Signal). Otherwise changes nothing.
     */
    public static boolean unignoreInterrupt() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(SIGACTION_SIZE, 8);
            int rc = Native.callInt(() -> (int) SIGACTION.invokeExact(SIGINT, MemorySegment.NULL, old));
            if (rc != 0 || old.get(JAVA_LONG, 0) != SIG_IGN) return false;
            Native.call(() -> (long) SIGNAL.invokeExact(SIGINT, SIG_DFL));
            return true;
        }
    }
}
