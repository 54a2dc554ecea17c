package dev.netwatcher.kernel;

import org.junit.jupiter.api.Test;

import java.io.StringReader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KallsymsTest {
    static final String SAMPLE = """
            ffffffff81000000 T _stext
            ffffffff81000100 t helper_one
            ffffffff81000200 D some_data
            ffffffff81000300 T tcp_v4_rcv
            zzzz T broken
            ffffffffc0001000 t nf_hook_fn\t[nf_tables]
            """;

    @Test
    void resolvesToFunctionPlusOffset() throws Exception {
        Kallsyms k = Kallsyms.parse(new StringReader(SAMPLE));
        assertEquals(4, k.size());
        assertEquals("tcp_v4_rcv+0x91", k.resolve(0xffffffff81000391L));
        assertEquals("helper_one+0x0", k.resolve(0xffffffff81000100L));
        assertEquals("helper_one+0x150", k.resolve(0xffffffff81000250L), "data symbols are skipped");
        assertEquals("nf_hook_fn+0x10 [nf_tables]", k.resolve(0xffffffffc0001010L));
        assertNull(k.resolve(0x1000L));
    }

    @Test
    void realKallsymsResolvesAKnownFunction() throws Exception {
        Kallsyms k = Kallsyms.load();
        assertTrue(k.size() > 1000, "root sees the symbols: " + k.size());
        String r = k.resolve(addressOf("tcp_v4_rcv") + 5);
        assertEquals("tcp_v4_rcv+0x5", r);
    }

    static long addressOf(String fn) throws Exception {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/kallsyms"))) {
            String[] f = line.split("\\s+");
            if (f.length >= 3 && f[2].equals(fn) && (f[1].equals("T") || f[1].equals("t"))) return Long.parseUnsignedLong(f[0], 16);
        }
        throw new AssertionError(fn + " not in kallsyms");
    }
}
