package dev.netwatcher.metrics;

import dev.netwatcher.event.DnsEvent;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.HttpEvent;
import dev.netwatcher.event.TcpCloseEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.IcmpEvent;
import dev.netwatcher.event.LatencyAnomalyEvent;
import dev.netwatcher.event.MysqlEvent;
import dev.netwatcher.event.NetfilterEvent;
import dev.netwatcher.event.RedisEvent;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.event.TcpErrorEvent;
import dev.netwatcher.event.TcpStateEvent;
import dev.netwatcher.event.TlsEvent;
import dev.netwatcher.sink.EventSink;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * Counts events into Prometheus metrics. Labels are bounded sets only (drop
 * reasons, TCP states, hooks, layers, HTTP status classes, DNS response codes): no per-flow label, so a busy host does not
 * grow the series count. With --metrics-labels, each also carries the event owner's cgroup and/or container, at most
 * OwnerLabels.MAX_VALUES of each. Per-packet latency is not counted here: the kernel keeps
 * those histograms (see {@link KernelMetrics}).
 */
public final class MetricsSink implements EventSink {
    private final Counter drops, retransmits, transitions, tcpErrors, anomalies, closed, httpResponses, dnsAnswers, tlsHandshakes, mysqlCommands, redisCommands;
    private final Histogram netfilter, icmp, httpLatency, dnsLatency, tlsLatency, mysqlLatency, redisLatency;

    private final OwnerLabels owners;

    public MetricsSink(PrometheusRegistry registry) {
        this(registry, OwnerLabels.none());
    }

    /** owners: --metrics-labels, appended to every metric's own labels (bounded, see OwnerLabels). */
    public MetricsSink(PrometheusRegistry registry, OwnerLabels owners) {
        this.owners = owners;
        drops = Counter.builder().name("netwatcher_drops").help("Packets freed with a drop reason (kfree_skb), by reason")
                .labelNames(names("reason")).register(registry);
        retransmits = Counter.builder().name("netwatcher_tcp_retransmits").help("TCP segments retransmitted, by socket state")
                .labelNames(names("state")).register(registry);
        transitions = Counter.builder().name("netwatcher_tcp_state_transitions").help("TCP state changes")
                .labelNames(names("from", "to")).register(registry);
        tcpErrors = Counter.builder().name("netwatcher_tcp_errors").help("TCP resets sent/received, bad checksums, socket errors")
                .labelNames(names("kind")).register(registry);
        anomalies = Counter.builder().name("netwatcher_latency_anomalies").help("Packets far outside their layer's baseline (-L)")
                .labelNames(names("source", "dir", "layer")).register(registry);
        netfilter = Histogram.builder().name("netwatcher_netfilter_hook_latency_seconds")
                .help("Time packets spent in each netfilter hook (-n)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names("hook")).register(registry);
        icmp = Histogram.builder().name("netwatcher_icmp_reply_latency_seconds")
                .help("Time from an echo request entering ICMP to its reply leaving it (-I)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names()).register(registry);
        closed = Counter.builder().name("netwatcher_tcp_connections_closed")
                .help("TCP connections that reached CLOSE (-a), by the state before").labelNames(names("last_state")).register(registry);
        httpResponses = Counter.builder().name("netwatcher_http_responses")
                .help("HTTP/1.x exchanges (-i), by side and status class").labelNames(names("side", "status_class")).register(registry);
        httpLatency = Histogram.builder().name("netwatcher_http_response_latency_seconds")
                .help("HTTP request to first response byte (-i)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names("side")).register(registry);
        dnsAnswers = Counter.builder().name("netwatcher_dns_answers")
                .help("DNS transactions (--dns), by side and response code (TIMEOUT: no answer in 5 s)")
                .labelNames(names("side", "rcode")).register(registry);
        dnsLatency = Histogram.builder().name("netwatcher_dns_latency_seconds")
                .help("DNS query to answer (--dns)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names("side")).register(registry);
        mysqlCommands = Counter.builder().name("netwatcher_mysql_commands")
                .help("MySQL/MariaDB commands answered (-M), by side, command and outcome").labelNames(names("side", "command", "outcome"))
                .register(registry);
        mysqlLatency = Histogram.builder().name("netwatcher_mysql_latency_seconds")
                .help("MySQL/MariaDB command to the first byte of its answer (-M)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names("side", "outcome")).register(registry);
        redisCommands = Counter.builder().name("netwatcher_redis_commands")
                .help("Redis commands answered (-R), by side and reply type").labelNames(names("side", "reply")).register(registry);
        redisLatency = Histogram.builder().name("netwatcher_redis_latency_seconds")
                .help("Redis command to the first byte of its reply (-R)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names("side")).register(registry);
        tlsHandshakes = Counter.builder().name("netwatcher_tls_handshakes")
                .help("TLS handshakes (--tls), by side and the version the server chose").labelNames(names("side", "version")).register(registry);
        tlsLatency = Histogram.builder().name("netwatcher_tls_hello_latency_seconds")
                .help("ClientHello to ServerHello (--tls)").unit(Unit.SECONDS)
                .classicOnly().classicUpperBounds(Buckets.seconds()).labelNames(names("side")).register(registry);
    }

    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    @Override
    public void accept(Event event) {
        switch (event) {
            case DropEvent d -> drops.labelValues(values(event, d.reason())).inc();
            case RetransEvent r -> retransmits.labelValues(values(event, r.state())).inc();
            case TcpStateEvent s -> transitions.labelValues(values(event, s.oldState(), s.newState())).inc();
            case TcpErrorEvent e -> tcpErrors.labelValues(values(event, e.kind())).inc();
            case LatencyAnomalyEvent a -> anomalies.labelValues(values(event, a.source(), a.dir(), a.layer())).inc();
            case NetfilterEvent n -> {
                for (int i = 0; i < n.hooks().size(); i++) {
                    if (n.hooks().has(i)) netfilter.labelValues(values(event, n.hooks().name(i))).observe(n.hooks().get(i) / 1e9);
                }
            }
            case IcmpEvent i -> icmp.labelValues(values(event)).observe(i.icmpNs() / 1e9);
            case TcpCloseEvent c -> closed.labelValues(values(event, c.lastState())).inc();
            case HttpEvent h -> {
                int cls = h.status() / 100;
                httpResponses.labelValues(values(event, h.side(), cls >= 1 && cls <= 5 ? STATUS_CLASSES[cls - 1] : "other")).inc();
                httpLatency.labelValues(values(event, h.side())).observe(h.latencyNs() / 1e9);
            }
            case DnsEvent d -> {
                dnsAnswers.labelValues(values(event, d.side(), d.rcode())).inc();
                if (!d.rcode().equals("TIMEOUT")) dnsLatency.labelValues(values(event, d.side())).observe(d.latencyNs() / 1e9);
            }
            case MysqlEvent m -> {
                mysqlCommands.labelValues(values(event, m.side(), m.command(), m.outcome())).inc();
                mysqlLatency.labelValues(values(event, m.side(), m.outcome())).observe(m.latencyNs() / 1e9);
            }
            case RedisEvent r -> {
                redisCommands.labelValues(values(event, r.side(), r.reply())).inc();
                redisLatency.labelValues(values(event, r.side())).observe(r.latencyNs() / 1e9);
            }
            case TlsEvent t -> {
                tlsHandshakes.labelValues(values(event, t.side(), t.version())).inc();
                tlsLatency.labelValues(values(event, t.side())).observe(t.handshakeNs() / 1e9);
            }
            default -> { }
        }
    }

    private String[] names(String... own) {
        return concat(own, owners.names());
    }

    private String[] values(Event e, String... own) {
        return concat(own, owners.values(e.header()));
    }

    private static String[] concat(String[] a, String[] b) {
        if (b.length == 0) return a;
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
}
