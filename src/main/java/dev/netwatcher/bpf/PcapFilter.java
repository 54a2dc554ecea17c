package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A pcap-filter(7) expression compiled by the system's libpcap into classic BPF, for the kernel's
 * interpreter (bpf/include/nw_pcap_filter.h). Compiled for DLT_RAW: the packet as seen from its IP
 * header, which is what every hook netwatcher uses can read (so link-layer primitives such as
 * {@code ether host} are refused, with libpcap's message).
 */
public final class PcapFilter {
    /** DLT_RAW on Linux (<pcap/dlt.h>; LINKTYPE_RAW in a file). */
    public static final int DLT_RAW = 12;
    /** PCAP_NETMASK_UNKNOWN: "ip broadcast" cannot be compiled without a netmask, as in tcpdump -i any. */
    private static final int NETMASK_UNKNOWN = 0xffffffff;
    /** The size of struct bpf_insn (u16 code, u8 jt, u8 jf, u32 k). */
    public static final int INSN_SIZE = 8;

    private static final class Calls {
        static final MethodHandle OPEN_DEAD = Native.pcap("pcap_open_dead", FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle COMPILE = Native.pcap("pcap_compile",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle GETERR = Native.pcap("pcap_geterr", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle FREECODE = Native.pcap("pcap_freecode", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle CLOSE = Native.pcap("pcap_close", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle OFFLINE_FILTER = Native.pcap("pcap_offline_filter",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** An expression libpcap refused; the message is libpcap's. */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message);
        }
    }

    private PcapFilter() {}

    /**
     * The expression's instructions, INSN_SIZE bytes each in the machine's byte order (struct bpf_insn),
     * compiled with libpcap's optimiser for DLT_RAW packets of up to snaplen bytes.
     */
    public static byte[] compile(String expression, int snaplen) throws Invalid {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = Native.call(() -> (MemorySegment) Calls.OPEN_DEAD.invokeExact(DLT_RAW, snaplen));
            if (p.equals(MemorySegment.NULL)) throw new BpfException("libpcap: pcap_open_dead failed");
            try {
                MemorySegment prog = arena.allocate(16, 8); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
                MemorySegment text = arena.allocateFrom(expression);
                int rc = Native.callInt(() -> (int) Calls.COMPILE.invokeExact(p, prog, text, 1, NETMASK_UNKNOWN));
                if (rc != 0) {
                    MemorySegment err = Native.call(() -> (MemorySegment) Calls.GETERR.invokeExact(p));
                    throw new Invalid(err.reinterpret(4096).getString(0));
                }
                try {
                    int n = prog.get(JAVA_INT, 0);
                    MemorySegment insns = prog.get(ADDRESS, 8).reinterpret((long) n * INSN_SIZE);
                    return insns.toArray(JAVA_BYTE);
                } finally {
                    Native.run(() -> { Calls.FREECODE.invokeExact(prog); });
                }
            } finally {
                Native.run(() -> { Calls.CLOSE.invokeExact(p); });
            }
        }
    }

    /** libpcap's own decision (pcap_offline_filter) of instructions from compile() on a DLT_RAW packet. */
    public static boolean offlineMatch(byte[] insns, byte[] packet) {
        return offlineMatch(insns, packet, packet.length);
    }

    /** The same on the packet's first caplen bytes (pcap_pkthdr caplen; len stays the packet's length). */
    public static boolean offlineMatch(byte[] insns, byte[] packet, int caplen) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = arena.allocate(Math.max(insns.length, 8), 8);
            MemorySegment.copy(insns, 0, code, JAVA_BYTE, 0, insns.length);
            MemorySegment prog = arena.allocate(16, 8);
            prog.set(JAVA_INT, 0, insns.length / INSN_SIZE);
            prog.set(ADDRESS, 8, code);
            MemorySegment hdr = arena.allocate(24, 8); // struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen, len; }
            hdr.set(JAVA_INT, 16, Math.min(caplen, packet.length));
            hdr.set(JAVA_INT, 20, packet.length);
            MemorySegment data = arena.allocate(Math.max(packet.length, 1), 8);
            MemorySegment.copy(packet, 0, data, JAVA_BYTE, 0, packet.length);
            return Native.callInt(() -> (int) Calls.OFFLINE_FILTER.invokeExact(prog, hdr, data)) != 0;
        }
    }

}
