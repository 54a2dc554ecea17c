package dev.netwatcher.metrics;

import dev.netwatcher.event.DnsEvent;
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
}
