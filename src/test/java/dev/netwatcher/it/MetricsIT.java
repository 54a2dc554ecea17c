package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --metrics against a real Prometheus server (Debian's prometheus): it scrapes
 * netwatcher every second while the test sends datagrams in the lab, some of them
 * dropped by nft, and the test reads the results back through Prometheus' HTTP API.
 */
class MetricsIT extends LabTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void prometheusScrapesLayerHistogramsDropsAndHealth() throws Exception {
        int promPort = freePort();
        Path dir = Files.createTempDirectory("nw-prometheus");
        int delivered = 20, dropped = 10, size = 200, sent = 15, sentSize = 300;
        lab.nft(lab.b, "add table inet nwtest; add counter inet nwtest dropped; "
                + "add chain inet nwtest input { type filter hook input priority 0; policy accept; }; "
                + "add rule inet nwtest input udp dport 9061 counter name dropped drop");
        List<String> err = Collections.synchronizedList(new ArrayList<>());
        Process nw = CliIT.startAttached(err, "-u", "-k", "--netns", Long.toString(lab.netns(lab.b)),
                "--metrics", "127.0.0.1:0");
        int nwPort = CliIT.metricsPort(err);
        Process prom = null;
        try {
            Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                    scrape_configs:
                      - job_name: netwatcher
                        static_configs:
                          - targets: ['127.0.0.1:%d']
                    """.formatted(nwPort));
            // Prometheus takes no port 0: a free port, and another one when something took it in between
            for (int attempt = 1; ; attempt++) {
                prom = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
                        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort)
                        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
                String at = "http://127.0.0.1:" + promPort;
                for (int i = 0; i < 160 && prom.isAlive() && !ready(at); i++) Thread.sleep(250);
                if (prom.isAlive() || attempt == 3 || !Files.readString(dir.resolve("prometheus.log")).contains("address already in use")) break;
                promPort = freePort();
            }
            String api = "http://127.0.0.1:" + promPort;
            awaitTrue(() -> get(api + "/-/ready").startsWith("Prometheus Server is Ready"), "prometheus ready", dir);

            Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 9060, delivered));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41060, Lab.B4, 9060, delivered, size, 0.01));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41061, Lab.B4, 9061, dropped, size, 0.01));
            // and B sends: the only transmissions --netns B counts (A's 30 are not)
            lab.inNs(lab.b, Lab.python("udp_send.py", Lab.B4, 41062, Lab.A4, 9062, sent, sentSize, 0.01));
            assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
            assertEquals(String.valueOf(delivered), Lab.readLine(recv.getInputStream()));
            assertEquals(dropped, lab.nftCounter(lab.b, "nwtest", "dropped"));

            String socketCount = "netwatcher_layer_latency_seconds_count{dir=\"rx\",proto=\"udp\",layer=\"socket\"}";
            String drops = "netwatcher_drops_total{reason=\"NETFILTER_DROP\"}";
            String txCount = "netwatcher_packets_total{dir=\"tx\",proto=\"udp\"}";
            awaitTrue(() -> value(api, socketCount) == delivered && value(api, drops) == dropped && value(api, txCount) == sent,
                    "prometheus saw " + delivered + " rx datagrams, " + dropped + " drops and " + sent + " tx datagrams", dir);

            // every layer of the rx path, with counts equal to the datagrams the socket got
            for (String layer : List.of("driver", "ip", "transport", "socket")) {
                assertEquals(delivered, value(api, "netwatcher_layer_latency_seconds_count{dir=\"rx\",proto=\"udp\",layer=\"" + layer + "\"}"), layer);
                double p50 = value(api, "histogram_quantile(0.5, sum by (le) (netwatcher_layer_latency_seconds_bucket{dir=\"rx\",proto=\"udp\",layer=\"" + layer + "\"}))");
                assertTrue(p50 > 0 && p50 < 1, layer + " median " + p50 + " s");
            }
            assertEquals(delivered, value(api, "netwatcher_packets_total{dir=\"rx\",proto=\"udp\"}"));
            assertEquals(delivered * size, value(api, "netwatcher_payload_bytes_total{dir=\"rx\",proto=\"udp\"}"));
            // --netns B: B's sends, not A's
            assertEquals(sent, value(api, txCount));
            assertEquals(sent * sentSize, value(api, "netwatcher_payload_bytes_total{dir=\"tx\",proto=\"udp\"}"));
            for (String layer : List.of("transport", "ip", "driver")) { // veth has no qdisc (noqueue)
                assertEquals(sent, value(api, "netwatcher_layer_latency_seconds_count{dir=\"tx\",proto=\"udp\",layer=\"" + layer + "\"}"), "tx " + layer);
            }
            assertEquals(0, value(api, "netwatcher_events_lost_total"));
            assertTrue(value(api, "netwatcher_events_received_total") >= dropped, "drop events reached user space");
            assertTrue(value(api, "count(netwatcher_bpf_program_recursion_misses_total)") >= 1, "per-program health");
            assertEquals(1, value(api, "up{job=\"netwatcher\"}"));
        } finally {
            if (prom != null) {
                prom.destroy();
                prom.waitFor(10, TimeUnit.SECONDS);
            }
            stop(nw);
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        awaitDetached(err);
        assertEquals(143, nw.exitValue(), String.join("\n", err));
        assertTrue(err.stream().anyMatch(l -> l.contains("top drop reasons")), "summary at exit: " + err);
        CliIT.awaitClean("--metrics run");
    }

    @Test
    void metricsOnlyModeSendsNoPacketRecordsToUserSpace() throws Exception {
        List<String> err = Collections.synchronizedList(new ArrayList<>());
        Process nw = CliIT.startAttached(err, "-u", "--netns", Long.toString(lab.netns(lab.b)), "--metrics", "127.0.0.1:0");
        int nwPort = CliIT.metricsPort(err);
        try {
            Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 9062, 30));
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41062, Lab.B4, 9062, 30, 64, 0.005));
            assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
            String text = get("http://127.0.0.1:" + nwPort + "/metrics");
            assertTrue(text.contains("netwatcher_layer_latency_seconds_count{dir=\"rx\",layer=\"socket\",proto=\"udp\"} 30"), text);
            assertTrue(text.contains("netwatcher_events_received_total 0"), "kernel aggregation only: " + text);
            // the DaemonSet's readiness probe (deploy/daemonset.yaml): 200 while netwatcher runs
            HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nwPort + "/-/healthy"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
        } finally {
            stop(nw);
        }
        // ... and nothing answers once it has stopped
        try {
            get("http://127.0.0.1:" + nwPort + "/-/healthy");
            throw new AssertionError("/-/healthy still answers after netwatcher stopped");
        } catch (IOException refused) {
            // connection refused: the probe fails, as it should
        }
        awaitDetached(err);
        assertTrue(err.stream().anyMatch(l -> l.contains("rx udp socket") && l.contains("30")), "summary from kernel histograms: " + err);
        CliIT.awaitClean("metrics-only run");
    }

    /**
     * --events and --bpf-stats do what README says: with them, every datagram is a console line
     * besides the metrics, and the programs' run counts and times are served; without them, no
     * per-event line is written and run counts stay 0 (the kernel's bpf_stats are off).
     */
    @Test
    void eventsAndBpfStatsAddConsoleLinesAndProgramRuns() throws Exception {
        int n = 12;
        for (boolean on : new boolean[] {true, false}) {
            int port = on ? 9062 : 9063;
            List<String> err = Collections.synchronizedList(new ArrayList<>());
            List<String> args = new ArrayList<>(List.of("-u", "--netns", Long.toString(lab.netns(lab.b)), "--metrics",
                    "127.0.0.1:0", "--no-logs"));
            if (on) args.addAll(List.of("--events", "--bpf-stats"));
            Path out = Files.createTempFile("nw-events", ".txt");
            try {
                Process nw = CliIT.startAttached(CliIT.netwatcher(args.toArray(String[]::new)).redirectOutput(out.toFile()), err);
                int nwPort = CliIT.metricsPort(err);
                try {
                    Process recv = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, port, n));
                    lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41062, Lab.B4, port, n, 64, 0.005));
                    assertTrue(recv.waitFor(15, TimeUnit.SECONDS));
                    assertEquals(Integer.toString(n), Lab.readLine(recv.getInputStream()));
                    String metrics = get("http://127.0.0.1:" + nwPort + "/metrics");
                    double runs = NwProcess.sample(metrics, "netwatcher_bpf_program_runs_total{program=\"nw_pkt_read\"}");
                    double seconds = NwProcess.sample(metrics, "netwatcher_bpf_program_run_seconds_total{program=\"nw_pkt_read\"}");
                    if (on) assertTrue(runs >= n && seconds > 0, "B's reads ran the read program: " + runs + " runs, " + seconds + " s");
                    else assertEquals(0.0, runs, "no bpf_stats without --bpf-stats");
                } finally {
                    stop(nw);
                }
                awaitDetached(err);
                long lines = Files.readAllLines(out).stream()
                        .filter(l -> l.contains(" packet ") && l.contains("198.18.0.1:41062") && l.matches(".* rx +64 .*")).count();
                assertEquals(on ? n : 0, lines, "console lines of B's datagrams (--events " + (on ? "on" : "off") + ")");
            } finally {
                Files.deleteIfExists(out);
            }
        }
    }

    /** SIGTERM (Process.destroy() would also close our end of its stderr before the summary is read). */
    private static void stop(Process nw) throws InterruptedException {
        Lab.run("kill", "-TERM", Long.toString(nw.pid()));
        if (!nw.waitFor(10, TimeUnit.SECONDS)) nw.destroyForcibly();
    }

    /** The stderr reader runs on its own thread: wait for the last line. */
    private static void awaitDetached(List<String> err) throws InterruptedException {
        for (int i = 0; i < 100 && err.stream().noneMatch(l -> l.contains("detached")); i++) Thread.sleep(50);
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Check c, String what, Path dir) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        Exception last = null;
        while (System.nanoTime() < end) {
            try {
                if (c.ok()) return;
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(250);
        }
        String log = Files.exists(dir.resolve("prometheus.log")) ? Files.readString(dir.resolve("prometheus.log")) : "";
        throw new AssertionError("timed out waiting for: " + what + (last != null ? " (" + last + ")" : "")
                + "\nprometheus log tail: " + log.substring(Math.max(0, log.length() - 2000)));
    }

    /** The single value of an instant PromQL query, or -1 when it has no result. */
    private static double value(String api, String promql) throws Exception {
        JsonNode r = JSON.readTree(get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
        JsonNode result = r.path("data").path("result");
        if (result.isEmpty()) return -1;
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private static String get(String url) throws Exception {
        return NwProcess.get(url);
    }

    private static boolean ready(String api) {
        try {
            return get(api + "/-/ready").startsWith("Prometheus Server is Ready");
        } catch (Exception notYet) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
