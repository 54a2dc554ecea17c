package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.netwatcher.contract.BpfAttachType.BPF_NETFILTER;
import static dev.netwatcher.contract.BpfAttachType.BPF_TCX_EGRESS;
import static dev.netwatcher.contract.BpfAttachType.BPF_TCX_INGRESS;
import static dev.netwatcher.contract.BpfCmd.BPF_LINK_CREATE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Links libbpf 1.1 has no helper for, made with bpf(BPF_LINK_CREATE) directly. */
final class LinkCreate {
    private static final long SYS_BPF = 321; // x86-64
    private static final int ATTR_SIZE = 64;

    private LinkCreate() {}

    static BpfLink netfilter(String program, int progFd, NetfilterHook hook) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8); // zeroed
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 8, BPF_NETFILTER);
            attr.set(JAVA_INT, 16, hook.pf());
            attr.set(JAVA_INT, 20, hook.hooknum());
            attr.set(JAVA_INT, 24, hook.priority());
            attr.set(JAVA_INT, 28, hook.defrag() ? 1 : 0);
            return BpfLink.ofFd(program, create(arena, attr, "netfilter hook " + hook));
        }
    }

    static BpfLink tcx(String program, int progFd, int ifindex, boolean ingress) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS);
            return BpfLink.ofFd(program, create(arena, attr, "tcx " + (ingress ? "ingress" : "egress") + " of ifindex " + ifindex));
        }
    }

    private static int create(Arena arena, MemorySegment attr, String what) {
        MemorySegment capture = arena.allocate(Native.CAPTURE);
        long fd = Native.call(() -> (long) Native.Libc.SYSCALL4.invokeExact(capture, SYS_BPF, (long) BPF_LINK_CREATE, attr, (long) ATTR_SIZE));
        if (fd < 0) {
            int errno = Native.errno(capture);
            throw new BpfException("cannot attach " + what + ": " + Native.strerror(errno), errno);
        }
        return (int) fd;
    }
}
