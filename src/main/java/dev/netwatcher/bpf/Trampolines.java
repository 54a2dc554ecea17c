package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.netwatcher.contract.BpfAttachType.BPF_TRACE_FENTRY;
import static dev.netwatcher.contract.BpfCmd.BPF_PROG_LOAD;
import static dev.netwatcher.contract.BpfCmd.BPF_RAW_TRACEPOINT_OPEN;
import static dev.netwatcher.contract.BpfProgType.BPF_PROG_TYPE_TRACING;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Whether this kernel runs fentry programs: a function's BTF is not enough. Kernels built
 * without BPF trampolines, or that refuse them (the 6.18 of our VMs loads tracepoint programs
 * but answers EPERM to every fentry, fexit and lsm program), are found by loading the smallest
 * fentry program there is ({@code r0 = 0; exit}) against a function and attaching it for an
 * instant (bpf(BPF_RAW_TRACEPOINT_OPEN), which attaches tracing programs since 5.5). Without
 * this, a program preferred where fentry works (Fallbacks) would cost a refused load of its whole
 * object, and a second load without it, on every start.
 */
public final class Trampolines {
    private static final long SYS_BPF = 321; // x86-64
    private static final int ATTR_SIZE = 128; // union bpf_attr as far as BPF_PROG_LOAD's attach_btf_obj_fd, zero tail
    private static volatile String refused;
    private static volatile boolean probed;

    private Trampolines() {}

    /**
     * Null when an fentry program attaches to the function of BTF type id {@code funcBtfId} in
     * vmlinux, else why not (one line). Probed once per process.
     */
    public static String refused(int funcBtfId) {
        if (!probed) {
            synchronized (Trampolines.class) {
                if (!probed) {
                    refused = probe(funcBtfId);
                    probed = true;
                }
            }
        }
        return refused;
    }

    private static String probe(int funcBtfId) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = arena.allocate(16, 8);
            insns.set(JAVA_BYTE, 0, (byte) 0xb7); // BPF_ALU64 | BPF_MOV | BPF_K: r0 = 0
            insns.set(JAVA_BYTE, 8, (byte) 0x95); // BPF_JMP | BPF_EXIT
            MemorySegment license = arena.allocateFrom("GPL");
            // union bpf_attr, BPF_PROG_LOAD (include/uapi/linux/bpf.h): prog_type, insn_cnt, insns,
            // license, ..., expected_attach_type at 68, attach_btf_id at 108 (attach_btf_obj_fd 0: vmlinux)
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, BPF_PROG_TYPE_TRACING);
            attr.set(JAVA_INT, 4, 2);
            attr.set(JAVA_LONG, 8, insns.address());
            attr.set(JAVA_LONG, 16, license.address());
            attr.set(JAVA_INT, 68, BPF_TRACE_FENTRY);
            attr.set(JAVA_INT, 108, funcBtfId);
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            long prog = Native.call(() -> (long) Native.Libc.SYSCALL4.invokeExact(capture, SYS_BPF, (long) BPF_PROG_LOAD, attr, (long) ATTR_SIZE));
            if (prog < 0) return "fentry programs refused by this kernel (" + Native.strerror(Native.errno(capture)) + ")";
            try {
                // BPF_RAW_TRACEPOINT_OPEN: name (u64, 0 for tracing programs), prog_fd
                MemorySegment open = arena.allocate(ATTR_SIZE, 8);
                open.set(JAVA_INT, 8, (int) prog);
                long link = Native.call(() -> (long) Native.Libc.SYSCALL4.invokeExact(capture, SYS_BPF, (long) BPF_RAW_TRACEPOINT_OPEN, open, (long) 16));
                if (link < 0) return "fentry programs cannot attach on this kernel (" + Native.strerror(Native.errno(capture)) + ")";
                close((int) link);
                return null;
            } finally {
                close((int) prog);
            }
        }
    }

    private static void close(int fd) {
        Native.callInt(() -> (int) Native.Libc.CLOSE.invokeExact(fd));
    }
}
