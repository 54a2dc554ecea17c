package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --tls through the command line (--json, tls.log, --metrics) against real OpenSSL: `openssl s_server` in B (a certificate the test makes, ALPN h2 and
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
            Path logs = tmp.resolve("logs");
            try (NwProcess a = NwProcess.start(tmp, "--tls", "--netns", Long.toString(lab.netns(lab.a)), "--json",
                         "--log-dir", logs.toString(), "--metrics", "127.0.0.1:0");
                 NwProcess b = NwProcess.start(tmp, "--tls", "--netns", Long.toString(lab.netns(lab.b)), "--json", "--no-logs")) {
                String v4 = lab.inNs(lab.a, "sh", "-c", "openssl s_client -connect " + Lab.B4 + ":8443 -servername nw.test "
                        + "-alpn h2,http/1.1 </dev/null 2>&1");
                String v6 = lab.inNs(lab.a, "sh", "-c", "openssl s_client -connect [" + Lab.B6 + "]:8444 -servername v6.nw.test "
                        + "-tls1_2 -alpn http/1.1 </dev/null 2>&1");

                JsonNode c4 = handshake(a, 8443);
                assertEquals("client", c4.get("side").asText());
                assertEquals("nw.test", c4.get("sni").asText());
                assertEquals(Lab.B4, c4.get("daddr").asText());
                assertEquals("openssl", c4.get("comm").asText());
                assertEquals(field(v4, "New, (\\S+), Cipher is"), c4.get("version").asText(), v4);
                assertEquals(field(v4, "New, \\S+, Cipher is (\\S+)"), c4.get("cipher").asText(), v4);
                assertTrue(texts(c4.get("versions_offered")).containsAll(List.of("TLSv1.3", "TLSv1.2")), c4.toString());
                assertEquals(List.of("h2", "http/1.1"), texts(c4.get("alpn")));
                assertFalse(c4.has("alpn_chosen"), "TLS 1.3 sends the choice encrypted: " + c4);
                assertEquals("h2", field(v4, "ALPN protocol:\\s*(\\S+)"), "s_client's own view of the choice");
                assertTrue(c4.get("handshake_ns").asLong() > 0 && c4.get("handshake_ns").asLong() < 2_000_000_000L, c4.toString());

                JsonNode c6 = handshake(a, 8444);
                assertEquals("v6.nw.test", c6.get("sni").asText());
                assertEquals("TLSv1.2", c6.get("version").asText());
                assertEquals(ianaName(field(v6, "New, TLSv1.2, Cipher is (\\S+)")), c6.get("cipher").asText(), v6);
                assertEquals(List.of("TLSv1.2"), texts(c6.get("versions_offered")), "-tls1_2 offers only 1.2");
                assertEquals("http/1.1", c6.get("alpn_chosen").asText(), "TLS 1.2: the server's choice is in the clear");

                for (JsonNode client : List.of(c4, c6)) {
                    JsonNode s = handshake(b, client.get("dport").asInt());
                    assertEquals("server", s.get("side").asText());
                    for (String k : new String[] {"sni", "version", "cipher", "sport"}) assertEquals(client.get(k), s.get(k), k);
                    assertTrue(s.get("handshake_ns").asLong() > 0 && s.get("handshake_ns").asLong() <= client.get("handshake_ns").asLong(),
                            "the server answers inside the client's wait: " + s + " vs " + client);
                }
                assertEquals(2, a.json("tls", e -> true).size(), "two handshakes: " + a.out());

                String m = a.metrics();
                assertEquals(1, NwProcess.sum(m, "netwatcher_tls_handshakes_total", "side=\"client\"", "version=\"TLSv1.2\""), m);
                assertEquals(1, NwProcess.sum(m, "netwatcher_tls_handshakes_total", "side=\"client\"", "version=\"" + c4.get("version").asText() + "\""), m);
                assertEquals(2, NwProcess.sum(m, "netwatcher_tls_hello_latency_seconds_count", "side=\"client\""), m);

                assertEquals(143, a.stop(), a.summary());
                List<String> log = Files.readAllLines(logs.resolve("tls.log"));
                assertEquals(2, log.size(), log.toString());
                assertTrue(log.stream().anyMatch(l -> l.startsWith("tls{") && l.contains("sni=\"v6.nw.test\"") && l.contains("version=\"TLSv1.2\"")),
                        log.toString());
                assertEquals(0, a.lost(), "nothing lost: " + a.stderr());
                String row = a.summaryRow("tls client");
                assertEquals("2", row.strip().split("\\s+")[2], row);
                assertTrue(row.endsWith("TLSv1.2:1 " + c4.get("version").asText() + ":1"), "the summary's versions: " + row);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static JsonNode handshake(NwProcess nw, int dport) throws Exception {
        return nw.await("tls", e -> e.get("dport").asInt() == dport, 1, WAIT).get(0);
    }

    /** A JSON array of texts. */
    private static List<String> texts(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
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
