package dev.netwatcher.probe;

import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.NwPayloadKind;
import dev.netwatcher.contract.NwPayloadWant;
import dev.netwatcher.contract.PayloadEventLayout;
import dev.netwatcher.event.Event;
import dev.netwatcher.protocol.Exchanges;
import dev.netwatcher.protocol.Segment;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * -i, --dns: struct payload_event (bpf/payload.h). Each record is one message start;
 * {@link Exchanges} pairs requests with answers, so decode() returns an event only
 * when a record completes an exchange (null otherwise). One instance per run: it
 * holds the pending requests.
 */
public final class PayloadProbe implements Probe {
    /** -i and --dns: the kernel's enum nw_payload_want. */
    public static final int HTTP = NwPayloadWant.NW_WANT_HTTP, DNS = NwPayloadWant.NW_WANT_DNS, TLS = NwPayloadWant.NW_WANT_TLS,
            MYSQL = NwPayloadWant.NW_WANT_MYSQL, REDIS = NwPayloadWant.NW_WANT_REDIS;
    /** The default server port of -R (--redis-port). */
    public static final int REDIS_PORT = 6379;

    private int redisPort = REDIS_PORT;
    private final java.util.ArrayDeque<Event> more = new java.util.ArrayDeque<>();
    /** The default server port of -M (--mysql-port). */
    public static final int MYSQL_PORT = 3306;

    private int mysqlPort = MYSQL_PORT;
    private long mysqlSlowNs;

    private final int modes;
    private final Exchanges exchanges;

    public PayloadProbe(int modes) {
        this(modes, false);
    }

    /** fullPaths: HTTP paths with their query values (--http-full-path). */
    public PayloadProbe(int modes, boolean fullPaths) {
        this.exchanges = new Exchanges(fullPaths);
        if (modes == 0 || (modes & ~(HTTP | DNS | TLS | MYSQL | REDIS)) != 0) throw new IllegalArgumentException("modes " + modes);
        this.modes = modes;
    }

    @Override public String name() { return "payload"; }
    @Override public int eventType() { return NwEventType.NW_EV_PAYLOAD; }

    @Override
    public String option() {
        List<String> o = new ArrayList<>();
        if ((modes & HTTP) != 0) o.add("-i");
        if ((modes & DNS) != 0) o.add("--dns");
        if ((modes & TLS) != 0) o.add("--tls");
        if ((modes & MYSQL) != 0) o.add("-M");
        if ((modes & REDIS) != 0) o.add("-R");
        return String.join(" ", o);
    }

    @Override
    public String describe(String program) {
        return program.endsWith("_in") ? "received payload (cgroup ingress)" : "sent payload (cgroup egress)";
    }

    @Override
    public boolean cgroupHook(String program) {
        return true;
    }

    @Override
    public Map<String, byte[]> rodata() {
        byte[] port = java.nio.ByteBuffer.allocate(2).order(java.nio.ByteOrder.nativeOrder()).putShort(0, (short) mysqlPort).array();
        byte[] redis = java.nio.ByteBuffer.allocate(2).order(java.nio.ByteOrder.nativeOrder()).putShort(0, (short) redisPort).array();
        return Map.of("nw_payload_mode", Probe.u32(modes), "nw_mysql_port", port, "nw_redis_port", redis);
    }

    /**
     * -M's server port (--mysql-port), and its slow-query threshold (--mysql-slow-ms): commands
     * answered faster than slowNs are not reported (0: all are).
     */
    public PayloadProbe mysql(int port, long slowNs) {
        this.mysqlPort = port;
        this.mysqlSlowNs = slowNs;
        return this;
    }

    /** -R's server port (--redis-port). */
    public PayloadProbe redis(int port) {
        this.redisPort = port;
        exchanges.redisPort(port);
        return this;
    }

    /** Requests dropped from the pairing tables before their answer (bounded tables). */
    public long forgotten() {
        return exchanges.forgotten();
    }

    @Override
    public Map<String, Long> decoderCounters() {
        if ((modes & REDIS) == 0) return Map.of("requests forgotten before their answer (pairing table full)", exchanges.forgotten());
        return Map.of("requests forgotten before their answer (pairing table full)", exchanges.forgotten(),
                "Redis streams that lost their place (a segment longer than copied, or not RESP)", exchanges.redisResyncs());
    }

    @Override
    public List<Event> expire(long nowEpochNs) {
        return exchanges.expire(nowEpochNs);
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        more.clear();
        for (Event e : exchanges.acceptAll(segment(b, off, ctx))) {
            if (e instanceof dev.netwatcher.event.MysqlEvent m && m.latencyNs() < mysqlSlowNs) continue;
            more.addLast(e);
        }
        return more.pollFirst();
    }

    @Override
    public Event more() {
        return more.pollFirst();
    }

    static Segment segment(ByteBuffer b, int off, DecodeContext ctx) {
        int n = Math.min(PayloadEventLayout.captured(b, off), PayloadEventLayout.DATA_LEN);
        byte[] data = new byte[n];
        b.get(off + PayloadEventLayout.DATA, data);
        int k = PayloadEventLayout.kind(b, off);
        Segment.Kind kind = k == NwPayloadKind.NW_PAYLOAD_DNS ? Segment.Kind.DNS : k == NwPayloadKind.NW_PAYLOAD_TLS ? Segment.Kind.TLS
                : k == NwPayloadKind.NW_PAYLOAD_MYSQL ? Segment.Kind.MYSQL : k == NwPayloadKind.NW_PAYLOAD_REDIS ? Segment.Kind.REDIS
                : Segment.Kind.HTTP;
        return new Segment(Records.header(b, off, ctx), Records.flow(b, off), PayloadEventLayout.cookie(b, off),
                Integer.toUnsignedLong(PayloadEventLayout.seq(b, off)), PayloadEventLayout.egress(b, off) != 0, kind, PayloadEventLayout.payloadLen(b, off), data);
    }

    @Override
    public int recordSize() {
        return PayloadEventLayout.SIZE;
    }
}
