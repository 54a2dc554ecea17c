package dev.netwatcher.protocol;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ClientHello/ServerHello built field by field as RFC 8446 lays them out; cut and random bytes never throw. */
class TlsTest {
    private static byte[] u16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    private static byte[] vec16(byte[] body) {
        return cat(u16(body.length), body);
    }

    private static byte[] ext(int type, byte[] body) {
        return cat(u16(type), vec16(body));
    }

    private static byte[] record(int handshakeType, byte[] body) {
        byte[] hs = cat(new byte[] {(byte) handshakeType, 0, (byte) (body.length >> 8), (byte) body.length}, body);
        return cat(new byte[] {22, 3, 1}, u16(hs.length), hs);
    }

    static byte[] clientHello(String sni, String... alpn) {
        byte[] name = sni.getBytes(StandardCharsets.US_ASCII);
        byte[] serverName = vec16(cat(new byte[] {0}, vec16(name)));
        ByteArrayOutputStream protos = new ByteArrayOutputStream();
        for (String p : alpn) {
            protos.write(p.length());
            protos.writeBytes(p.getBytes(StandardCharsets.US_ASCII));
        }
        byte[] versions = {6, 0x3a, 0x3a, 3, 4, 3, 3}; // GREASE, TLS 1.3, TLS 1.2
        byte[] exts = cat(ext(0, serverName), ext(16, vec16(protos.toByteArray())), ext(43, versions));
        byte[] body = cat(u16(0x0303), new byte[32], new byte[] {0}, vec16(cat(u16(0x1301), u16(0x1302))), new byte[] {1, 0},
                vec16(exts));
        return record(1, body);
    }

    static byte[] serverHello(int version, int cipher, String alpn) {
        byte[] exts = cat(ext(43, u16(version)));
        if (alpn != null) exts = cat(exts, ext(16, vec16(cat(new byte[] {(byte) alpn.length()}, alpn.getBytes(StandardCharsets.US_ASCII)))));
        return record(2, cat(u16(0x0303), new byte[32], new byte[] {0}, u16(cipher), new byte[] {0}, vec16(exts)));
    }

    @Test
    void clientHelloGivesNameVersionsAndProtocols() {
        byte[] d = clientHello("nw.test", "h2", "http/1.1");
        Tls.ClientHello c = Tls.clientHello(d, d.length).orElseThrow();
        assertEquals("nw.test", c.sni());
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), c.versions(), "GREASE left out");
        assertEquals(List.of("h2", "http/1.1"), c.alpn());
        assertTrue(Tls.serverHello(d, d.length).isEmpty());
    }

    @Test
    void serverHelloGivesTheChoice() {
        byte[] d = serverHello(0x0304, 0x1302, null);
        Tls.ServerHello s = Tls.serverHello(d, d.length).orElseThrow();
        assertEquals("TLSv1.3", s.version());
        assertEquals("TLS_AES_256_GCM_SHA384", s.cipher());
        assertNull(s.alpn());
        d = serverHello(0x0303, 0xc02f, "http/1.1");
        s = Tls.serverHello(d, d.length).orElseThrow();
        assertEquals("TLSv1.2", s.version());
        assertEquals("http/1.1", s.alpn());
    }

    @Test
    void aHelloCutShortKeepsWhatCameBeforeTheCut() {
        byte[] d = clientHello("cut.example", "h2");
        int firstWhole = -1;
        for (int n = 0; n <= d.length; n++) {
            byte[] part = Arrays.copyOf(d, n);
            java.util.Optional<Tls.ClientHello> c = Tls.clientHello(part, n);
            c.ifPresent(h -> assertTrue(h.sni() == null || "cut.example".startsWith(h.sni()), h.sni()));
            boolean whole = c.map(h -> "cut.example".equals(h.sni())).orElse(false);
            if (whole && firstWhole < 0) firstWhole = n;
            if (firstWhole >= 0) assertTrue(whole, "a cut after the server name, at " + n + " of " + d.length + ", still names it");
        }
        // the name comes from the cut hellos too, not only from the whole one
        assertTrue(firstWhole > 0 && firstWhole < d.length, "first cut naming the server: " + firstWhole + " of " + d.length);
        Tls.ClientHello whole = Tls.clientHello(d, d.length).orElseThrow();
        assertEquals("cut.example", whole.sni());
        assertEquals(java.util.List.of("h2"), whole.alpn());
    }

    @Property(tries = 3000)
    void randomBytesNeverThrow(@ForAll @Size(max = 600) byte[] d) {
        Tls.clientHello(d, d.length);
        Tls.serverHello(d, d.length);
        if (d.length > 6) {
            d[0] = 22;
            d[1] = 3;
            d[5] = (byte) (d.length % 2 == 0 ? 1 : 2);
            Tls.clientHello(d, d.length);
            Tls.serverHello(d, d.length);
        }
    }
}
