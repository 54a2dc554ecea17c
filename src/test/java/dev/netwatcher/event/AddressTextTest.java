package dev.netwatcher.event;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** IPv6 text as RFC 5952 (and ip/ss) write it. */
class AddressTextTest {
    static String text(String a) throws Exception {
        return AddressText.v6(InetAddress.getByName(a).getAddress());
    }

    @Test
    void compressesTheLongestZeroRun() throws Exception {
        assertEquals("fd00:198::2", text("fd00:198:0:0:0:0:0:2"));
        assertEquals("::1", text("::1"));
        assertEquals("::", text("::"));
        assertEquals("fe80::", text("fe80::"));
        assertEquals("2001:db8::1:0:0:1", text("2001:db8:0:0:1:0:0:1"), "the first of two equal runs");
        assertEquals("2001:db8:0:1:1:1:1:1", text("2001:db8:0:1:1:1:1:1"), "a single zero group stays");
        assertEquals("2001:db8:0:0:ab::", text("2001:db8:0:0:ab:0:0:0"), "the longest run wins");
        assertEquals("[fd00:198::1]:80", Flow.endpoint(InetAddress.getByName("fd00:198::1"), 80));
    }
}
