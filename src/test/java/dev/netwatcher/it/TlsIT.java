package dev.netwatcher.it;

import dev.netwatcher.event.TlsEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PayloadProbe;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --tls against real OpenSSL: `openssl s_server` in B (a certificate the test makes, ALPN h2 and
 * http/1.1), `openssl s_client` in A with a server name and ALPN, over IPv4 (TLS 1.3) and IPv6
 * (TLS 1.2, where the server's ALPN choice is in the clear). Each handshake is reported on both
 * sides with the name the client sent, what it offered, and the version and cipher s_client
 * itself prints.
 */
class TlsIT extends LabTest {
    private static final Duration WAIT = Duration.ofSeconds(8);

    @Test
    void handshakesAreReportedOnBothSidesAsOpensslSawThem() throws Exception {
        Path dir = Files.createTempDirectory("nw-tls");
        try {
            Lab.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", dir.resolve("k.pem").toString(), "-out", dir.resolve("c.pem").toString(), "-days", "1",
                    "-subj", "/CN=nw.test");
            for (String[] s : new String[][] {{"8443", "-4"}, {"8444", "-6"}}) {
                lab.spawn(lab.b, "openssl", "s_server", s[1], "-accept", s[0], "-cert", dir.resolve("c.pem").toString(),
                        "-key", dir.resolve("k.pem").toString(), "-alpn", "h2,http/1.1", "-quiet");
                lab.awaitListening(lab.b, "t", Integer.parseInt(s[0]));
            }
            try (Collector a = new Collector(List.of(Probes.payload(PayloadProbe.TLS)), new Filter(lab.netns(lab.a), 0, 0, null, null));
                 Collector b = new Collector(List.of(Probes.payload(PayloadProbe.TLS)), new Filter(lab.netns(lab.b), 0, 0, null, null))) {
                String v4 = lab.inNs(lab.a, "sh", "-c", "openssl s_client -connect " + Lab.B4 + ":8443 -servername nw.test "
                        + "-alpn h2,http/1.1 </dev/null 2>&1");
                String v6 = lab.inNs(lab.a, "sh", "-c", "openssl s_client -connect [" + Lab.B6 + "]:8444 -servername v6.nw.test "
                        + "-tls1_2 -alpn http/1.1 </dev/null 2>&1");

                TlsEvent c4 = a.await(TlsEvent.class, e -> e.flow().dport() == 8443, 1, WAIT).get(0);
                assertEquals("client", c4.side());
                assertEquals("nw.test", c4.sni());
                assertEquals(Lab.B4, c4.flow().daddr().getHostAddress());
                assertEquals(field(v4, "New, (\\S+), Cipher is"), c4.version(), v4);
                assertEquals(field(v4, "New, \\S+, Cipher is (\\S+)"), c4.cipher(), v4);
                assertTrue(c4.versionsOffered().contains("TLSv1.3") && c4.versionsOffered().contains("TLSv1.2"), c4.toString());
                assertEquals(List.of("h2", "http/1.1"), c4.alpn());
                assertNull(c4.alpnChosen(), "TLS 1.3 sends the choice encrypted");
                assertEquals("h2", field(v4, "ALPN protocol:\\s*(\\S+)"), "s_client's own view of the choice");
                assertTrue(c4.handshakeNs() > 0 && c4.handshakeNs() < 2_000_000_000L, c4.toString());

                TlsEvent c6 = a.await(TlsEvent.class, e -> e.flow().dport() == 8444, 1, WAIT).get(0);
                assertEquals("v6.nw.test", c6.sni());
                assertEquals("TLSv1.2", c6.version());
                assertEquals(ianaName(field(v6, "New, TLSv1.2, Cipher is (\\S+)")), c6.cipher(), v6);
                assertEquals(List.of("TLSv1.2"), c6.versionsOffered(), "-tls1_2 offers only 1.2");
                assertEquals("http/1.1", c6.alpnChosen(), "TLS 1.2: the server's choice is in the clear");

                for (TlsEvent client : List.of(c4, c6)) {
                    int port = client.flow().dport();
                    TlsEvent s = b.await(TlsEvent.class, e -> e.flow().dport() == port, 1, WAIT).get(0);
                    assertEquals("server", s.side());
                    assertEquals(client.sni(), s.sni());
                    assertEquals(client.version(), s.version());
                    assertEquals(client.cipher(), s.cipher());
                    assertEquals(client.flow().sport(), s.flow().sport(), "the same connection");
                    assertTrue(s.handshakeNs() > 0 && s.handshakeNs() <= client.handshakeNs(),
                            "the server answers inside the client's wait: " + s.handshakeNs() + " vs " + client.handshakeNs());
                }
                assertEquals(0, a.session().lost());
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    /** OpenSSL's name of a TLS 1.2 suite in the IANA spelling netwatcher reports (openssl ciphers -stdname). */
    private static String ianaName(String openssl) {
        for (String line : Lab.run("openssl", "ciphers", "-stdname", "ALL").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[2].equals(openssl)) return f[0];
        }
        throw new AssertionError("openssl ciphers -stdname does not know " + openssl);
    }

    private static String field(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) throw new AssertionError("no " + regex + " in " + text);
        return m.group(1);
    }
}
