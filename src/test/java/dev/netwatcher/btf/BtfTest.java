package dev.netwatcher.btf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BtfTest {
    /** A hand-built BTF: int, struct pair { int a; int b; }, enum color { RED = 0, BLUE = 5 }, typedef btf_trace_x. */
    static ByteBuffer tiny() {
        String strings = "\0int\0pair\0a\0b\0color\0RED\0BLUE\0btf_trace_x\0";
        byte[] str = strings.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer t = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        // [1] INT "int" size 4, encoding signed, 32 bits
        t.putInt(1).putInt(Btf.INT << 24).putInt(4).putInt((1 << 24) | 32);
        // [2] STRUCT "pair" size 8, 2 members
        t.putInt(5).putInt((Btf.STRUCT << 24) | 2).putInt(8);
        t.putInt(10).putInt(1).putInt(0);
        t.putInt(12).putInt(1).putInt(32);
        // [3] ENUM "color" size 4, 2 values
        t.putInt(14).putInt((Btf.ENUM << 24) | 2).putInt(4);
        t.putInt(20).putInt(0);
        t.putInt(24).putInt(5);
        // [4] TYPEDEF "btf_trace_x" -> 1
        t.putInt(29).putInt(Btf.TYPEDEF << 24).putInt(1);
        int typeLen = t.position();
        ByteBuffer b = ByteBuffer.allocate(24 + typeLen + str.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0xEB9F).put((byte) 1).put((byte) 0).putInt(24);
        b.putInt(0).putInt(typeLen).putInt(typeLen).putInt(str.length);
        b.put(t.array(), 0, typeLen).put(str);
        return b.flip();
    }

    @Test
    void readsHandBuiltTypes() {
        Btf btf = Btf.parse(tiny());
        assertEquals(4, btf.typeCount());
        assertEquals(Map.of(0L, "RED", 5L, "BLUE"), btf.enumValues("color"));
        assertEquals(8, btf.structSize("pair").orElseThrow());
        assertEquals(new Btf.Field("b", 4, 4), btf.field("pair", "b").orElseThrow());
        assertTrue(btf.hasTracepoint("x"));
        assertFalse(btf.hasTracepoint("y"));
        assertTrue(btf.field("pair", "c").isEmpty());
    }

    @Test
    void rejectsGarbageWithoutReadingOutOfBounds() {
        assertThrows(IllegalArgumentException.class, () -> Btf.parse(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8,
                9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})));
        ByteBuffer cut = tiny();
        cut.limit(cut.limit() - 20);
        assertThrows(IllegalArgumentException.class, () -> Btf.parse(cut));
    }

    @Test
    void runningKernelNamesItsDropReasonsAndTracepoints() throws Exception {
        Btf k = Btf.kernel();
        Map<Long, String> reasons = k.enumValues("skb_drop_reason");
        assertTrue(reasons.size() > 60, "drop reasons: " + reasons.size());
        assertTrue(reasons.containsValue("SKB_DROP_REASON_NO_SOCKET"));
        assertTrue(reasons.containsValue("SKB_DROP_REASON_NETFILTER_DROP"));
        assertEquals("SKB_NOT_DROPPED_YET", reasons.get(0L));
        assertTrue(k.hasTracepoint("kfree_skb"));
        assertTrue(k.hasTracepoint("inet_sock_set_state"));
        assertFalse(k.hasTracepoint("no_such_tracepoint_nw"));
        // the arguments a tp_btf program gets (the probes read the ones newer kernels added only where they
        // exist), against bpftool's reading of the same BTF: btf_trace_NAME is a pointer to a FUNC_PROTO whose
        // first parameter is the tracepoint's data pointer, then the arguments (kfree_skb: 4 on 6.18, 3 on 6.1)
        String dump = run("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux");
        for (String tp : List.of("kfree_skb", "tcp_retransmit_skb", "netif_rx", "inet_sock_set_state")) {
            assertEquals(bpftoolArgs(dump, tp), k.tracepointArgs(tp), tp);
        }
        assertTrue(k.tracepointArgs("kfree_skb") >= 3, "skb, location, reason at least");
        assertEquals(-1, k.tracepointArgs("no_such_tracepoint_nw"));
    }

    /** The number of arguments of tracepoint tp in bpftool's dump: vlen of btf_trace_TP's FUNC_PROTO, less its data pointer. */
    private static int bpftoolArgs(String dump, String tp) {
        java.util.regex.Matcher t = java.util.regex.Pattern.compile("TYPEDEF 'btf_trace_" + tp + "' type_id=(\\d+)").matcher(dump);
        assertTrue(t.find(), "bpftool knows btf_trace_" + tp);
        java.util.regex.Matcher ptr = java.util.regex.Pattern.compile("(?m)^\\[" + t.group(1) + "\\] PTR '\\(anon\\)' type_id=(\\d+)").matcher(dump);
        assertTrue(ptr.find(), tp + ": a pointer");
        java.util.regex.Matcher proto = java.util.regex.Pattern.compile("(?m)^\\[" + ptr.group(1) + "\\] FUNC_PROTO .* vlen=(\\d+)").matcher(dump);
        assertTrue(proto.find(), tp + ": to a function prototype");
        return Integer.parseInt(proto.group(1)) - 1;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd));
        return out;
    }
}
