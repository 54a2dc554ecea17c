package dev.netwatcher.kernel;

import dev.netwatcher.btf.Btf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelNamesTest {
    @Test
    void namesComeFromTheRunningKernel() throws Exception {
        Btf k = Btf.kernel();
        KernelNames n = new KernelNames(k);
        long noSocket = k.enumValues("skb_drop_reason").entrySet().stream()
                .filter(e -> e.getValue().equals("SKB_DROP_REASON_NO_SOCKET")).findFirst().orElseThrow().getKey();
        assertEquals("NO_SOCKET", n.dropReason(noSocket));
        assertEquals(k.enumValues("skb_drop_reason").size(), n.dropReasonCount());
        assertEquals("SUBSYS_3_7", n.dropReason((3L << 16) | 7));
        assertEquals("NO_SOCKET", n.rstReason(1));
        assertTrue(n.rstReason(100000).startsWith("RST_REASON_"));
        assertEquals("ECONNREFUSED", Errno.name(111));
    }
}
