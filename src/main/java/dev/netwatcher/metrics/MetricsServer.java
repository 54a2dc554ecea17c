package dev.netwatcher.metrics;

import dev.netwatcher.ui.UiServer;
import dev.netwatcher.web.WebConfig;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;

/** /metrics over HTTP (the Prometheus client's own server, daemon threads). */
public final class MetricsServer implements AutoCloseable {
    private final HTTPServer server;

    private MetricsServer(HTTPServer server) {
        this.server = server;
    }

    /** host null: every address. Throws UncheckedIOException when the port cannot be bound. */
    public static MetricsServer start(String host, int port, PrometheusRegistry registry) {
        return start(host, port, registry, null);
    }

    /** The same, also serving the live view (--ui on the same port) at every other path. */
    public static MetricsServer start(String host, int port, PrometheusRegistry registry, UiServer ui) {
        return start(host, port, registry, ui, null);
    }

    /** The same, with --web-config's TLS and basic authentication (web null: plain HTTP, open). */
    public static MetricsServer start(String host, int port, PrometheusRegistry registry, UiServer ui, WebConfig web) {
        try {
            HTTPServer.Builder b = HTTPServer.builder().port(port).registry(registry);
            if (host != null) b.hostname(host);
            if (ui != null) b.defaultHandler(ui.handler()).executorService(ui.executor());
            if (web != null && web.tls()) b.httpsConfigurator(web.https());
            if (web != null && web.authenticates()) b.authenticator(web.authenticator());
            return new MetricsServer(b.buildAndStart());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + (host == null ? "" : host + ":") + port
                    + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.stop();
    }
}
