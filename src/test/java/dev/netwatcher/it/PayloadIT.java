package dev.netwatcher.it;

import dev.netwatcher.event.DnsEvent;
import dev.netwatcher.event.HttpEvent;
import dev.netwatcher.lab.Collector;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PayloadProbe;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -i and --dns against real servers and clients in the lab: Python's http.server
 * and curl, dnsmasq and dig. What the clients asked and got (status codes, answers,
 * their own timing) is the ground truth.
 */
class PayloadIT extends LabTest {
    static final Duration WAIT = Duration.ofSeconds(5);

    /** curl from A; returns "CODE STARTTRANSFER_SECONDS" per URL, one per line. */
    String curl(String... urls) {
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-s", "-g", "--max-time", "5",
                "-w", "%{http_code} %{time_starttransfer}\\n"));
        for (String u : urls) cmd.addAll(List.of("-o", "/dev/null", u));
        return lab.inNs(lab.a, cmd.toArray(String[]::new));
    }

    @Test
    void httpExchangesMatchWhatCurlAskedAndGot() throws Exception {
        lab.spawnReady(lab.b, Lab.python("http_server.py", 8080));
        try (Collector c = new Collector(List.of(Probes.payload(PayloadProbe.HTTP)), Filter.NONE)) {
            String base4 = "http://" + Lab.B4 + ":8080", base6 = "http://[" + Lab.B6 + "]:8080";
            // a request the server answers after 50 ms and a 404 on one kept-alive connection, then IPv6
            String[] ok = curl(base4 + "/slow", base4 + "/nw-missing?x=1").trim().split("\n");
            String[] six = curl(base6 + "/").trim().split("\n");
            assertEquals("200", ok[0].split(" ")[0]);
            assertEquals("404", ok[1].split(" ")[0]);
            assertEquals("200", six[0].split(" ")[0]);

            List<HttpEvent> client = c.await(HttpEvent.class, e -> inLab(e) && e.side().equals("client"), 3, WAIT);
            assertEquals(3, client.size(), "client-side exchanges: " + client);
            HttpEvent first = client.get(0), second = client.get(1), v6 = client.get(2);
            assertEquals("GET", first.method());
            assertEquals("/slow", first.path());
            assertTrue(first.latencyNs() >= 50_000_000, "the server waited 50 ms: " + first.latencyNs() + " ns");
            assertEquals(Lab.B4 + ":8080", first.host());
            assertEquals(200, first.status());
            assertEquals("/nw-missing?x=\u2026", second.path(), "query values are hidden by default");
            assertEquals(404, second.status());
            assertEquals(first.flow(), second.flow(), "curl reused the connection: same flow");
            assertEquals("/", v6.path());
            assertEquals("[" + Lab.B6 + "]:8080", v6.host());
            assertEquals(200, v6.status());
            assertEquals(Lab.B6, dev.netwatcher.event.Flow.address(v6.flow().daddr()));
            assertEquals(lab.netns(lab.a), first.header().netns());
            assertEquals("curl", first.header().comm(), "the task that sent the request");

            // latency: request sent -> first response byte; curl's time_starttransfer also covers connect
            String[][] truth = {ok[0].split(" "), ok[1].split(" "), six[0].split(" ")};
            for (int i = 0; i < 3; i++) {
                HttpEvent e = client.get(i);
                double curlNs = Double.parseDouble(truth[i][1]) * 1e9;
                assertTrue(e.latencyNs() > 0 && (i == 1 || e.latencyNs() <= curlNs + 1e6),
                        "latency " + e.latencyNs() + " ns vs curl's " + (long) curlNs + " ns to the first byte");
            }
            // the server saw the same exchanges, each inside the client's time
            List<HttpEvent> server = c.await(HttpEvent.class, e -> inLab(e) && e.side().equals("server"), 3, WAIT);
            assertEquals(3, server.size(), "server-side exchanges: " + server);
            for (int i = 0; i < 3; i++) {
                assertEquals(client.get(i).path(), server.get(i).path());
                assertEquals(client.get(i).status(), server.get(i).status());
                assertTrue(server.get(i).latencyNs() <= client.get(i).latencyNs(), "server time within the client's");
                assertEquals(lab.netns(lab.b), server.get(i).header().netns());
            }
        }
    }

    @Test
    void filtersApplyToHttp() throws Exception {
        lab.spawnReady(lab.b, Lab.python("http_server.py", 8081));
        // only packets from B: the responses; requests (from A) never reach user space, so nothing pairs
        Filter fromB = new Filter(0, 0, 0, dev.netwatcher.probe.Cidr.parse(Lab.B4 + "/32"), null);
        try (Collector c = new Collector(List.of(Probes.payload(PayloadProbe.HTTP)), fromB);
             Collector all = new Collector(List.of(Probes.payload(PayloadProbe.HTTP)), new Filter(lab.netns(lab.a), 0, 0, null, null))) {
            curl("http://" + Lab.B4 + ":8081/");
            assertEquals(1, all.await(HttpEvent.class, e -> true, 1, WAIT).size(), "netns A: the client side only");
            Thread.sleep(300);
            assertTrue(c.events(HttpEvent.class, e -> true).isEmpty(), "half the exchange is filtered out");
        }
    }


    /** dig's answer, and how long the dig process ran (its own "Query time" uses a coarse clock: often 0 ms). */
    record Dig(String status, String answer, long wallNs) {}

    Dig dig(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("dig", "+tries=1", "+time=3"));
        cmd.addAll(List.of(args));
        long t0 = System.nanoTime();
        String out = lab.inNs(lab.a, cmd.toArray(String[]::new));
        long wall = System.nanoTime() - t0;
        Matcher m = Pattern.compile("status: (\\w+)").matcher(out);
        assertTrue(m.find(), out);
        Matcher a = Pattern.compile("(?m)^\\S+\\s+\\d+\\s+IN\\s+(A|AAAA)\\s+(\\S+)$").matcher(out);
        return new Dig(m.group(1), a.find() ? a.group(1) + " " + a.group(2) : null, wall);
    }

    @Test
    void dnsTransactionsMatchWhatDigAskedAndGot() throws Exception {
        String dnsmasq = java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/sbin/dnsmasq")) ? "/usr/sbin/dnsmasq" : "dnsmasq";
        lab.spawn(lab.b, dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=" + Lab.B4 + "," + Lab.B6, "--except-interface=lo", "--port=53", "--pid-file=",
                "--user=root", "--address=/ok.nw.test/198.18.0.77", "--address=/ok.nw.test/fd00:198::77", "--local=/nw.test/");
        lab.awaitListening(lab.b, "u", 53);
        lab.awaitListening(lab.b, "t", 53);
        try (Collector c = new Collector(List.of(Probes.payload(PayloadProbe.DNS)), Filter.NONE)) {
            Dig a = dig("@" + Lab.B4, "ok.nw.test", "A");
            Dig nx = dig("@" + Lab.B4, "missing.nw.test", "A");
            Dig aaaa = dig("@" + Lab.B6, "ok.nw.test", "AAAA");
            Dig tcp = dig("+tcp", "@" + Lab.B4, "ok.nw.test", "A");
            assertEquals("NOERROR", a.status());
            assertEquals("A 198.18.0.77", a.answer());
            assertEquals("NXDOMAIN", nx.status());
            assertEquals("AAAA fd00:198::77", aaaa.answer());

            List<DnsEvent> client = c.await(DnsEvent.class, e -> inLab(e) && e.side().equals("client"), 4, WAIT);
            assertEquals(4, client.size(), "client-side transactions: " + client);
            Dig[] truth = {a, nx, aaaa, tcp};
            String[] names = {"ok.nw.test.", "missing.nw.test.", "ok.nw.test.", "ok.nw.test."};
            String[] types = {"A", "A", "AAAA", "A"};
            for (int i = 0; i < 4; i++) {
                DnsEvent e = client.get(i);
                assertEquals(names[i], e.name(), "query " + i);
                assertEquals(types[i], e.qtype(), "query " + i);
                assertEquals(truth[i].status(), e.rcode(), "query " + i);
                if (truth[i].answer() != null) assertTrue(e.answers().contains(truth[i].answer()), e.answers() + " has " + truth[i].answer());
                else assertTrue(e.answers().isEmpty(), "NXDOMAIN has no answers: " + e.answers());
                assertTrue(e.latencyNs() > 0 && e.latencyNs() < truth[i].wallNs(),
                        "latency " + e.latencyNs() + " ns, the dig process ran " + truth[i].wallNs() + " ns");
                assertEquals(lab.netns(lab.a), e.header().netns());
            }
            assertEquals(17, client.get(0).flow().proto(), "UDP");
            assertEquals(Lab.B6, dev.netwatcher.event.Flow.address(client.get(2).flow().daddr()));
            assertEquals(6, client.get(3).flow().proto(), "dig +tcp");
            List<DnsEvent> server = c.await(DnsEvent.class, e -> inLab(e) && e.side().equals("server"), 4, WAIT);
            assertEquals(4, server.size(), "dnsmasq's side: " + server);
            assertFalse(server.stream().anyMatch(e -> e.header().netns() != lab.netns(lab.b)));
            for (int i = 0; i < 4; i++) {
                DnsEvent cl = client.get(i);
                DnsEvent sv = server.stream().filter(e -> e.id() == cl.id()).findFirst().orElseThrow();
                assertTrue(sv.latencyNs() <= cl.latencyNs(), "dnsmasq's time inside dig's: " + sv.latencyNs() + " vs " + cl.latencyNs());
            }
        }
    }

    @Test
    void anUnansweredQueryIsReportedAsTimeout() throws Exception {
        // B drops queries: dig gives up, netwatcher reports the query after Exchanges.DNS_TIMEOUT_NS
        lab.nft(lab.b, "add table inet nwt; add chain inet nwt in { type filter hook input priority 0; }; "
                + "add rule inet nwt in udp dport 53 counter drop");
        try (Collector c = new Collector(List.of(Probes.payload(PayloadProbe.DNS)), Filter.NONE)) {
            long t0 = System.nanoTime();
            assertTrue(lab.tryInNs(lab.a, "dig", "+tries=1", "+time=1", "@" + Lab.B4, "lost.nw.test", "A") != 0, "dig must fail");
            List<DnsEvent> t = c.await(DnsEvent.class, e -> inLab(e) && e.rcode().equals("TIMEOUT"), 1, Duration.ofSeconds(10));
            long waited = System.nanoTime() - t0;
            assertEquals(1, t.size(), "one timed-out query: " + c.events(DnsEvent.class, e -> true));
            assertEquals("lost.nw.test.", t.getFirst().name());
            assertEquals("client", t.getFirst().side());
            assertTrue(t.getFirst().latencyNs() >= dev.netwatcher.protocol.Exchanges.DNS_TIMEOUT_NS && t.getFirst().latencyNs() <= waited,
                    "waited " + t.getFirst().latencyNs() + " ns");
        }
    }

    /** Events of the lab's two namespaces: the host's own HTTP and DNS (a resolver, a package manager) are not the test's. */
    boolean inLab(dev.netwatcher.event.Event e) {
        return e.header().netns() == lab.netns(lab.a) || e.header().netns() == lab.netns(lab.b);
    }
}
