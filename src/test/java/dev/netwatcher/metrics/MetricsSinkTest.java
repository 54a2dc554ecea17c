package dev.netwatcher.metrics;

import dev.netwatcher.event.Cgroup;
import dev.netwatcher.event.DnsEvent;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.HttpEvent;
import dev.netwatcher.event.TcpCloseEvent;
import dev.netwatcher.event.TcpInfo;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** -a, -i, --dns events become bounded-label counters and latency histograms. */
class MetricsSinkTest {
    @Test
    void exchangesAndClosedConnectionsAreCounted() throws Exception {
        PrometheusRegistry r = new PrometheusRegistry();
        MetricsSink sink = new MetricsSink(r);
        EventHeader h = new EventHeader(1, 1, 0, 0, null);
        TcpInfo info = new TcpInfo("CLOSE", "Open", 0, 0, 0, 10, TcpInfo.INFINITE_SSTHRESH, 0, 0, 50, 25, 10, 1448, 0,
                0, 0, 0, 0, 100, 101, 200, 3, 3, 0, 0, 0, 0, 0, 0, 0);
        sink.accept(new TcpCloseEvent(h, Flow.UNKNOWN, 1, "LAST_ACK", 5_000_000, info));
        sink.accept(new HttpEvent(h, Flow.UNKNOWN, "client", "GET", "/", null, 404, "Not Found", 2_000_000));
        sink.accept(new HttpEvent(h, Flow.UNKNOWN, "client", "GET", "/", null, 200, "OK", 1_000_000));
        sink.accept(new DnsEvent(h, Flow.UNKNOWN, "client", 1, "a.", "A", "NXDOMAIN", List.of(), 300_000));
        sink.accept(new DnsEvent(h, Flow.UNKNOWN, "client", 2, "b.", "A", "TIMEOUT", List.of(), 5_000_000_000L));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, r.scrape());
        String text = out.toString(StandardCharsets.UTF_8);
        for (String want : new String[] {
                "netwatcher_tcp_connections_closed_total{last_state=\"LAST_ACK\"} 1.0",
                "netwatcher_http_responses_total{side=\"client\",status_class=\"4xx\"} 1.0",
                "netwatcher_http_responses_total{side=\"client\",status_class=\"2xx\"} 1.0",
                "netwatcher_http_response_latency_seconds_count{side=\"client\"} 2",
                "netwatcher_dns_answers_total{rcode=\"NXDOMAIN\",side=\"client\"} 1.0",
                "netwatcher_dns_answers_total{rcode=\"TIMEOUT\",side=\"client\"} 1.0",
                "netwatcher_dns_latency_seconds_count{side=\"client\"} 1"}) {
            assertTrue(text.contains(want), want + " in\n" + text);
        }
    }

    @Test
    void ownerLabelsAreAddedAndBounded() throws Exception {
        PrometheusRegistry r = new PrometheusRegistry();
        MetricsSink sink = new MetricsSink(r, new OwnerLabels(List.of("cgroup", "container")));
        String id = "4f1c2b9e8d7a6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3";
        EventHeader inContainer = new EventHeader(1, 1, 7, 7, "nginx", new Cgroup("/system.slice/docker-" + id + ".scope"));
        sink.accept(new DropEvent(inContainer, Flow.UNKNOWN, "SOCKET_RCVBUFF", 6, "x", 1, 0, 0, null));
        sink.accept(new DropEvent(inContainer, Flow.UNKNOWN, "SOCKET_RCVBUFF", 6, "x", 1, 0, 0, null));
        sink.accept(new DropEvent(new EventHeader(1, 1, 0, 0, null), Flow.UNKNOWN, "NO_SOCKET", 2, "x", 1, 0, 0, null));
        for (int i = 0; i < OwnerLabels.MAX_VALUES + 5; i++) {
            sink.accept(new DropEvent(new EventHeader(1, 1, 9, 9, "x", new Cgroup("/c" + i)), Flow.UNKNOWN, "NO_SOCKET", 2, "x", 1, 0, 0, null));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, r.scrape());
        String text = out.toString(StandardCharsets.UTF_8);
        for (String want : new String[] {
                "netwatcher_drops_total{cgroup=\"/system.slice/docker-" + id + ".scope\",container=\"4f1c2b9e8d7a\",reason=\"SOCKET_RCVBUFF\"} 2.0",
                "netwatcher_drops_total{cgroup=\"\",container=\"\",reason=\"NO_SOCKET\"} 1.0",
                "netwatcher_drops_total{cgroup=\"other\",container=\"\",reason=\"NO_SOCKET\"} 6.0"}) {
            assertTrue(text.contains(want), want + " in\n" + text);
        }
        long series = text.lines().filter(l -> l.startsWith("netwatcher_drops_total{")).count();
        assertTrue(series <= OwnerLabels.MAX_VALUES + 2, "bounded: " + series);
    }
}
