package dev.netwatcher.probe;

import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.kernel.Clock;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static dev.netwatcher.probe.StructSpec.f;

/** Decoding of the parts every record shares: struct nw_hdr and struct nw_flow (nw_common.h). */
final class Records {
    static final int HDR_TS = 0, HDR_TYPE = 8, HDR_NETNS = 12, HDR_PID = 16, HDR_TID = 20, HDR_COMM = 24, COMM_LEN = 16;
    static final int HDR_SIZE = 40;
    static final int FLOW_SADDR = 0, FLOW_DADDR = 16, FLOW_SPORT = 32, FLOW_DPORT = 34, FLOW_FAMILY = 36, FLOW_PROTO = 38;
    static final int FLOW_SIZE = 40;
    /** Where the type-specific part of every event starts. */
    static final int BODY = HDR_SIZE + FLOW_SIZE;

    private Records() {}

    static int type(ByteBuffer b, int off) {
        return b.getInt(off + HDR_TYPE);
    }

    static EventHeader header(ByteBuffer b, int off, Clock clock) {
        int pid = b.getInt(off + HDR_PID), tid = b.getInt(off + HDR_TID);
        String comm = b.get(off + HDR_COMM) != 0 ? comm(b, off + HDR_COMM) : pid == 0 ? null : procComm(tid);
        return new EventHeader(clock.toEpochNs(b.getLong(off + HDR_TS)), Integer.toUnsignedLong(b.getInt(off + HDR_NETNS)),
                pid, tid, comm);
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
            name = cString(ByteBuffer.wrap(java.util.Arrays.copyOf(raw, Math.min(n, COMM_LEN))), 0, Math.min(n, COMM_LEN));
        } catch (java.io.IOException | RuntimeException e) {
            name = "";
        }
        PROC_COMM_TID[slot] = tid;
        PROC_COMM[slot] = name;
        return name;
    }

    static Flow flow(ByteBuffer b, int off) {
        int at = off + HDR_SIZE;
        int family = Short.toUnsignedInt(b.getShort(at + FLOW_FAMILY));
        int proto = Byte.toUnsignedInt(b.get(at + FLOW_PROTO));
        int len = family == Flow.AF_INET ? 4 : family == Flow.AF_INET6 ? 16 : 0;
        if (len == 0) return proto == 0 ? Flow.UNKNOWN : new Flow(0, proto, null, 0, null, 0);
        return new Flow(family, proto, address(b, at + FLOW_SADDR, len), Short.toUnsignedInt(b.getShort(at + FLOW_SPORT)),
                address(b, at + FLOW_DADDR, len), Short.toUnsignedInt(b.getShort(at + FLOW_DPORT)));
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

    /** Fields of nw_hdr and nw_flow as seen from an event struct that embeds them as hdr and flow. */
    static List<StructSpec.FieldSpec> commonFields() {
        return List.of(
                f("hdr.ts_ns", HDR_TS, 8), f("hdr.type", HDR_TYPE, 4), f("hdr.netns", HDR_NETNS, 4),
                f("hdr.pid", HDR_PID, 4), f("hdr.tid", HDR_TID, 4), f("hdr.comm", HDR_COMM, COMM_LEN),
                f("flow.saddr", HDR_SIZE + FLOW_SADDR, 16), f("flow.daddr", HDR_SIZE + FLOW_DADDR, 16),
                f("flow.sport", HDR_SIZE + FLOW_SPORT, 2), f("flow.dport", HDR_SIZE + FLOW_DPORT, 2),
                f("flow.family", HDR_SIZE + FLOW_FAMILY, 2), f("flow.proto", HDR_SIZE + FLOW_PROTO, 1));
    }

    static List<StructSpec.FieldSpec> with(List<StructSpec.FieldSpec> common, StructSpec.FieldSpec... own) {
        List<StructSpec.FieldSpec> l = new ArrayList<>(common);
        l.addAll(List.of(own));
        return List.copyOf(l);
    }
}
