package dev.netwatcher.probe;

import dev.netwatcher.contract.NwFilterLayout;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CidrFilterTest {
    @Test
    void parsesPrefixes() throws Exception {
        Cidr c = Cidr.parse("198.18.0.0/15");
        assertEquals(15, c.prefix());
        assertEquals(2, c.family());
        assertTrue(c.contains(InetAddress.getByName("198.19.255.1")));
        assertFalse(c.contains(InetAddress.getByName("198.20.0.1")));
        assertEquals(128, Cidr.parse("fd00:198::2").prefix());
        assertTrue(Cidr.parse("fd00:198::/64").contains(InetAddress.getByName("fd00:198::abcd")));
        for (String bad : new String[] {"", "1.2.3", "example.com", "1.2.3.4/33", "::1/129", "1.2.3.4/x", "300.1.1.1"}) {
            assertThrows(IllegalArgumentException.class, () -> Cidr.parse(bad), bad);
        }
    }

    @Test
    void encodesLikeStructNwFilter() {
        Filter f = new Filter(4026531833L, 80, 443, Cidr.parse("198.18.0.0/15"), Cidr.parse("fd00:198::2/128"));
        ByteBuffer b = ByteBuffer.wrap(f.toBytes()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Filter.SIZE, b.capacity());
        assertEquals((int) 4026531833L, b.getInt(NwFilterLayout.NETNS));
        assertEquals(80, b.getShort(NwFilterLayout.SPORT));
        assertEquals(443, b.getShort(NwFilterLayout.DPORT));
        assertEquals(2, b.get(NwFilterLayout.SADDR_FAMILY));
        assertEquals(15, b.get(NwFilterLayout.SADDR_PREFIX));
        assertEquals(10, b.get(NwFilterLayout.DADDR_FAMILY));
        assertEquals((byte) 128, b.get(NwFilterLayout.DADDR_PREFIX));
        assertEquals((byte) 198, b.get(NwFilterLayout.SADDR));
        assertEquals((byte) 0xfd, b.get(NwFilterLayout.DADDR));
        assertEquals(2, b.get(NwFilterLayout.DADDR + 15));
    }
}
