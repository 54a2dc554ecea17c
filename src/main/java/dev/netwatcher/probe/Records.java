package dev.netwatcher.probe;

import dev.netwatcher.bpf.Buffers;
import dev.netwatcher.contract.NwFlowLayout;
import dev.netwatcher.contract.NwHdrLayout;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * Decoding of the parts every record shares: struct nw_hdr and struct nw_flow (nw_common.h),
 * at offsets hdr and flow of every event struct (0 and sizeof(struct nw_hdr): DecoderTest).
 */
final class Records {
    static final int COMM_LEN = NwHdrLayout.COMM_LEN;
    /** Where the flow of every event starts. */
    private static final int FLOW = NwHdrLayout.SIZE;
    /** The shortest record: a header and a flow. */
    static final int MIN_SIZE = FLOW + NwFlowLayout.SIZE;

    private Records() {}

    static int type(ByteBuffer b, int off) {
        return NwHdrLayout.type(b, off);
    }

    static EventHeader header(ByteBuffer b, int off, DecodeContext ctx) {
        int pid = NwHdrLayout.pid(b, off), tid = NwHdrLayout.tid(b, off);
        String comm = b.get(off + NwHdrLayout.COMM) != 0 ? comm(b, off + NwHdrLayout.COMM) : pid == 0 ? null : procComm(tid);
        return new EventHeader(ctx.clock().toEpochNs(NwHdrLayout.tsNs(b, off)), Integer.toUnsignedLong(NwHdrLayout.netns(b, off)),
                pid, tid, comm, ctx.cgroups().of(NwHdrLayout.cgroup(b, off)));
    }

    private static final int PROC_COMM_SLOTS = 256;
    private static final int[] PROC_COMM_TID = new int[PROC_COMM_SLOTS];
    private static final String[] PROC_COMM = new String[PROC_COMM_SLOTS];

    /**
     * The name of thread tid from /proc, for records whose program could not call
     * bpf_get_current_comm (packet programs on kernels before 6.18, nw_skb_comm), cached
     * direct-mapped by tid; "" when the thread has gone.
     */
    static String procComm(int tid) {
        int slot = (tid * 0x9E3779B9 >>> 24) & (PROC_COMM_SLOTS - 1);
        if (PROC_COMM_TID[slot] == tid && PROC_COMM[slot] != null) return PROC_COMM[slot];
        String name;
        try {
            byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + tid + "/comm"));
            int n = raw.length > 0 && raw[raw.length - 1] == '\n' ? raw.length - 1 : raw.length;
            name = cString(Buffers.direct(raw, 0, Math.min(n, COMM_LEN)), 0, Math.min(n, COMM_LEN));
        } catch (java.io.IOException | RuntimeException e) {
            name = "";
        }
        PROC_COMM_TID[slot] = tid;
        PROC_COMM[slot] = name;
        return name;
    }

    /** The flow of the record at off. */
    static Flow flow(ByteBuffer b, int off) {
        return flowAt(b, off + FLOW);
    }

    /** A struct nw_flow at byte at. */
    static Flow flowAt(ByteBuffer b, int at) {
        int family = NwFlowLayout.family(b, at);
        int proto = NwFlowLayout.proto(b, at);
        int len = family == Flow.AF_INET ? 4 : family == Flow.AF_INET6 ? 16 : 0;
        if (len == 0) return proto == 0 ? Flow.UNKNOWN : new Flow(0, proto, null, 0, null, 0);
        return new Flow(family, proto, address(b, at + NwFlowLayout.SADDR, len), NwFlowLayout.sport(b, at),
                address(b, at + NwFlowLayout.DADDR, len), NwFlowLayout.dport(b, at));
    }

    /** Decoded IPv4 addresses and comm strings, direct-mapped: a busy run repeats a few of each. */
    private record V4(int raw, InetAddress address) {}

    private record Comm(long lo, long hi, String text) {}

    private static final V4[] V4_CACHE = new V4[1024];
    private static final Comm[] COMM_CACHE = new Comm[256];

    private static InetAddress address(ByteBuffer b, int at, int len) {
        if (len == 4) {
            int raw = b.getInt(at);
            int slot = (raw ^ (raw >>> 16)) & (V4_CACHE.length - 1);
            V4 c = V4_CACHE[slot];
            if (c != null && c.raw() == raw) return c.address();
            InetAddress a = decodeAddress(b, at, len);
            V4_CACHE[slot] = new V4(raw, a);
            return a;
        }
        return decodeAddress(b, at, len);
    }

    private static InetAddress decodeAddress(ByteBuffer b, int at, int len) {
        byte[] a = new byte[len];
        b.get(at, a);
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // only for bad lengths, which cannot happen here
        }
    }

    /** The 16-byte comm field (TASK_COMM_LEN), through a small cache. */
    static String comm(ByteBuffer b, int at) {
        long lo = b.getLong(at), hi = b.getLong(at + 8);
        int slot = (int) ((lo * 0x9E3779B97F4A7C15L + hi) >>> 56);
        Comm c = COMM_CACHE[slot];
        if (c != null && c.lo() == lo && c.hi() == hi) return c.text();
        String text = cString(b, at, COMM_LEN);
        COMM_CACHE[slot] = new Comm(lo, hi, text);
        return text;
    }

    static String cString(ByteBuffer b, int at, int max) {
        int n = 0;
        while (n < max && b.get(at + n) != 0) n++;
        byte[] s = new byte[n];
        b.get(at, s);
        // a task names itself (prctl PR_SET_NAME): no control character reaches a terminal or a log line
        // (C0 and DEL here, C1 such as U+009B CSI after decoding; invalid UTF-8 becomes U+FFFD)
        for (int i = 0; i < n; i++) if ((s[i] & 0xff) < 0x20 || s[i] == 0x7f) s[i] = '?';
        char[] text = new String(s, java.nio.charset.StandardCharsets.UTF_8).toCharArray();
        for (int i = 0; i < text.length; i++) if (text[i] >= 0x80 && text[i] < 0xa0) text[i] = '?';
        return new String(text);
    }
}
