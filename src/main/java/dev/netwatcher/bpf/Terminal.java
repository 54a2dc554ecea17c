package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** The size of the terminal on standard output (ioctl TIOCGWINSZ), for tables that must fit it as top's do. */
public final class Terminal {
    private static final long TIOCGWINSZ = 0x5413;
    private static final MethodHandle IOCTL = Native.libc("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));

    private Terminal() {}

    /** Rows of the terminal standard output is, or 0 when it is not one (a pipe, a file). */
    public static int rows() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8); // struct winsize: ws_row, ws_col, ws_xpixel, ws_ypixel
            int rc = Native.callInt(() -> (int) IOCTL.invokeExact(1, TIOCGWINSZ, ws));
            return rc == 0 ? Short.toUnsignedInt(ws.get(JAVA_SHORT, 0)) : 0;
        } catch (RuntimeException e) {
            return 0;
        }
    }
}
