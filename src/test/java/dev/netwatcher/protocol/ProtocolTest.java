package dev.netwatcher.protocol;

import dev.netwatcher.event.DnsEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.HttpEvent;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTP and DNS parsing from the first bytes of a message, and the pairing of requests with answers. */
class ProtocolTest {
    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void httpRequestLineAndHost() {
        byte[] d = ascii("GET /a/b?c=1 HTTP/1.1\r\nUser-Agent: x\r\nhOsT:  example.test:8080 \r\n\r\n");
        Http.Request r = Http.request(d, d.length).orElseThrow();
        assertEquals("GET", r.method());
        assertEquals("/a/b?c=\u2026", r.path(), "query values hidden");
        assertEquals("/a/b?c=1", Http.request(d, d.length, true).orElseThrow().path(), "--http-full-path");
        assertEquals("HTTP/1.1", r.version());
        assertEquals("example.test:8080", r.host());
        // cut by the copy limit inside the line: the method and the path so far
        byte[] cut = ascii("POST /upload/very/long");
        assertEquals("/upload/very/long", Http.request(cut, cut.length).orElseThrow().path());
        assertNull(Http.request(cut, cut.length).orElseThrow().host());
        assertTrue(Http.request(ascii("GETX / HTTP/1.1\r\n"), 17).isEmpty(), "not a method");
        assertTrue(Http.request(ascii("GET / SPDY/3\r\n"), 14).isEmpty(), "not HTTP/1.x");
        byte[] ctl = ascii("GET /\u0001\u0007x HTTP/1.1\r\n");
        assertEquals("/??x", Http.request(ctl, ctl.length).orElseThrow().path(), "control bytes are masked");
    }

    @Test
    void queryValuesAndUserInfoAreHiddenUnlessAskedFor() {
        assertEquals("/login?user=\u2026&token=\u2026", Http.redact("/login?user=alice&token=SECRET123"));
        assertEquals("/?\u2026&k=\u2026&", Http.redact("/?SECRETFLAG&k=&"), "a bare word is a value too; empty stays empty");
        assertEquals("/plain/path", Http.redact("/plain/path"));
        assertEquals("http://proxy.test/x?a=\u2026", Http.redact("http://bob:hunter2@proxy.test/x?a=1"));
        assertEquals("http://proxy.test/@x", Http.redact("http://proxy.test/@x"), "an @ in the path is not user info");
        byte[] d = ascii("GET /reset?token=SECRET123 HTTP/1.1\r\nAuthorization: Bearer SECRET456\r\nCookie: s=SECRET789\r\n\r\n");
        Http.Request r = Http.request(d, d.length).orElseThrow();
        assertFalse(r.toString().contains("SECRET"), "nothing secret in the parsed request: " + r);
    }

    @Test
    void httpStatusLine() {
        byte[] d = ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        Http.Status s = Http.status(d, d.length).orElseThrow();
        assertEquals(404, s.code());
        assertEquals("Not Found", s.reason());
        assertEquals(204, Http.status(ascii("HTTP/1.0 204"), 12).orElseThrow().code());
        assertTrue(Http.status(ascii("HTTP/1.1 20 OK"), 14).isEmpty());
        assertTrue(Http.status(ascii("HTTP/2 200"), 10).isEmpty());
    }

    /** dig ok.nw.test A, answered by dnsmasq with 198.18.0.77 (the answer's name compressed to the question's). */
    static final byte[] ANSWER = HexFormat.of().parseHex(
            "1234" + "8580" + "0001" + "0001" + "0000" + "0000"
                    + "026f6b026e77047465737400" + "0001" + "0001"
                    + "c00c" + "0001" + "0001" + "00000000" + "0004" + "c612004d");

    @Test
    void dnsAnswerWithCompressedName() {
        Dns.Message m = Dns.parse(ANSWER, 0, ANSWER.length).orElseThrow();
        assertEquals(0x1234, m.id());
        assertTrue(m.response());
        assertEquals("NOERROR", m.rcode());
        assertEquals("ok.nw.test.", m.name());
        assertEquals("A", m.qtype());
        assertEquals(List.of("A 198.18.0.77"), m.answers());
        // cut inside the answer: the question still parses, the answer is left out
        Dns.Message cut = Dns.parse(ANSWER, 0, ANSWER.length - 3).orElseThrow();
        assertEquals(List.of(), cut.answers());
        assertTrue(Dns.parse(ANSWER, 0, 11).isEmpty(), "shorter than a header");
        // a pointer loop is refused, not followed forever
        byte[] loop = ANSWER.clone();
        loop[12] = (byte) 0xc0;
        loop[13] = 12;
        assertTrue(Dns.parse(loop, 0, loop.length).isEmpty());
    }

    static EventHeader at(long ns, String comm) {
        return new EventHeader(ns, 7, comm == null ? 0 : 42, 42, comm);
    }

    static Flow flow(String s, int sp, String d, int dp, int proto) throws Exception {
        return new Flow(2, proto, InetAddress.getByName(s), sp, InetAddress.getByName(d), dp);
    }

    @Test
    void requestsPairWithAnswersInOrderPerSocket() throws Exception {
        Exchanges x = new Exchanges();
        Flow req = flow("198.18.0.1", 40000, "198.18.0.2", 80, 6), resp = flow("198.18.0.2", 80, "198.18.0.1", 40000, 6);
        byte[] get1 = ascii("GET /one HTTP/1.1\r\n\r\n"), get2 = ascii("GET /two HTTP/1.1\r\n\r\n");
        byte[] cont = ascii("HTTP/1.1 100 Continue\r\n\r\n"), ok = ascii("HTTP/1.1 200 OK\r\n"), nf = ascii("HTTP/1.1 404 Not Found\r\n");
        assertTrue(x.accept(new Segment(at(1_000, "curl"), req, 5, 1100, true, Segment.Kind.HTTP, get1.length, get1)).isEmpty());
        assertTrue(x.accept(new Segment(at(2_000, "curl"), req, 5, 1200, true, Segment.Kind.HTTP, get2.length, get2)).isEmpty());
        assertTrue(x.accept(new Segment(at(2_500, null), resp, 5, 1300, false, Segment.Kind.HTTP, cont.length, cont)).isEmpty(),
                "100 Continue is not the answer");
        // an answer on another socket pairs with nothing
        assertTrue(x.accept(new Segment(at(2_600, null), resp, 6, 1400, false, Segment.Kind.HTTP, ok.length, ok)).isEmpty());
        HttpEvent one = (HttpEvent) x.accept(new Segment(at(3_000, null), resp, 5, 1500, false, Segment.Kind.HTTP, ok.length, ok)).orElseThrow();
        // a retransmission of the first answer's segment (same sequence number) pairs with nothing
        assertTrue(x.accept(new Segment(at(3_100, null), resp, 5, 1500, false, Segment.Kind.HTTP, ok.length, ok)).isEmpty());
        HttpEvent two = (HttpEvent) x.accept(new Segment(at(4_500, null), resp, 5, 1600, false, Segment.Kind.HTTP, nf.length, nf)).orElseThrow();
        assertEquals("/one", one.path());
        assertEquals(200, one.status());
        assertEquals(2_000, one.latencyNs());
        assertEquals("/two", two.path());
        assertEquals(404, two.status());
        assertEquals(2_500, two.latencyNs());
        assertEquals("client", one.side());
        assertEquals("curl", one.header().comm(), "the task that sent the request");
        assertEquals(req, one.flow(), "client -> server");
        assertEquals(3_000, one.header().tsNs(), "the answer's time");
    }

    @Test
    void dnsPairsByIdAndSide() throws Exception {
        Exchanges x = new Exchanges();
        byte[] query = ANSWER.clone();
        query[2] = 0x01; // QR = 0, RD
        query[3] = 0x00;
        Flow q = flow("198.18.0.2", 53, "198.18.0.1", 5353, 17);
        // received query, sent answer: the server side
        assertTrue(x.accept(new Segment(at(10, null), q, 9, 1700, false, Segment.Kind.DNS, query.length, query)).isEmpty());
        Optional<Event> e = x.accept(new Segment(at(110, "dnsmasq"), q, 9, 1800, true, Segment.Kind.DNS, ANSWER.length, ANSWER));
        DnsEvent d = (DnsEvent) e.orElseThrow();
        assertEquals("server", d.side());
        assertEquals(100, d.latencyNs());
        assertEquals("dnsmasq", d.header().comm());
        assertEquals(List.of("A 198.18.0.77"), d.answers());
        // an answer with an id nobody asked: nothing
        byte[] other = ANSWER.clone();
        other[1] = 0x35;
        assertTrue(x.accept(new Segment(at(200, null), q, 9, 1900, false, Segment.Kind.DNS, other.length, other)).isEmpty());
        // DNS over TCP: the 2-byte length prefix is skipped
        ByteArrayOutputStream tcpQ = new ByteArrayOutputStream(), tcpA = new ByteArrayOutputStream();
        tcpQ.write(0);
        tcpQ.write(query.length);
        tcpQ.write(query);
        tcpA.write(0);
        tcpA.write(ANSWER.length);
        tcpA.write(ANSWER);
        Flow t = flow("198.18.0.1", 41000, "198.18.0.2", 53, 6);
        x.accept(new Segment(at(1_000, "dig"), t, 11, 2000, true, Segment.Kind.DNS, tcpQ.size(), tcpQ.toByteArray()));
        DnsEvent viaTcp = (DnsEvent) x.accept(new Segment(at(1_700, null), t, 11, 2100, false, Segment.Kind.DNS, tcpA.size(),
                tcpA.toByteArray())).orElseThrow();
        assertEquals("client", viaTcp.side());
        assertEquals("ok.nw.test.", viaTcp.name());
        assertEquals(700, viaTcp.latencyNs());
    }

    @Test
    void pairingTablesAreBoundedAndCountWhatTheyForget() throws Exception {
        Exchanges x = new Exchanges();
        Flow req = flow("198.18.0.1", 40000, "198.18.0.2", 80, 6);
        byte[] get = ascii("GET / HTTP/1.1\r\n\r\n");
        for (int cookie = 1; cookie <= Exchanges.MAX_SOCKETS + 3; cookie++) {
            x.accept(new Segment(at(cookie, "curl"), req, cookie, 1, true, Segment.Kind.HTTP, get.length, get));
        }
        assertEquals(3, x.forgotten(), "the 3 oldest sockets' requests");
    }
}
