package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.FieldWriter;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.event.TcpInfo;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Log files in the original tool's folder layout and line format,
 * {@code type{key="value",...}}: tcpstate.log, retrans.log, drop.log, err.log,
 * connect.log (closed connections, -a), packets.log (TCP and ICMP packets) and udp.log
 * (UDP packets, as the original), and one file per other event type.
 */
public final class LogFileSink implements EventSink {
    private static final Map<String, String> FILES = Map.ofEntries(
            Map.entry("tcp_state", "tcpstate.log"),
            Map.entry("retrans", "retrans.log"),
            Map.entry("drop", "drop.log"),
            Map.entry("tcp_error", "err.log"),
            Map.entry("packet", "packets.log"),
            Map.entry("icmp", "icmp.log"),
            Map.entry("netfilter", "netfilter.log"),
            Map.entry("latency_anomaly", "anomaly.log"),
            Map.entry("tcp_conn", "conn.log"),
            Map.entry("tcp_close", "connect.log"),
            Map.entry("tcp_rtt", "rtt.log"),
            Map.entry("http", "http.log"),
            Map.entry("dns", "dns.log"),
            Map.entry("tls", "tls.log"),
            Map.entry("mysql", "mysql.log"),
            Map.entry("redis", "redis.log"),
            Map.entry("udp_packet", "udp.log"));

    private final LogFolder folder;
    private final Map<String, BufferedWriter> writers = new HashMap<>();

    /**
     * Checks (or makes) the folder and the log files already in it; refuses with a
     * one-line {@link LogFolder.Unsafe} what another user could steer or read.
     */
    public LogFileSink(Path dir) {
        this.folder = LogFolder.open(dir);
        for (String name : FILES.values()) folder.checkFile(folder.path().resolve(name));
    }

    /** As the original: UDP packets in udp.log, the others in packets.log; other events by type. */
    static String fileKey(Event e) {
        return e.type().equals("packet") && "udp".equals(e.flow().protoName()) ? "udp_packet" : e.type();
    }

    public static String fileFor(String type) {
        return FILES.getOrDefault(type, type + ".log");
    }

    @Override
    public void accept(Event e) {
        StringBuilder sb = new StringBuilder(160).append(e.type()).append('{');
        EventHeader h = e.header();
        Flow f = e.flow();
        kv(sb, "ts_ns", Long.toString(h.tsNs()));
        kv(sb, "netns", Long.toString(h.netns()));
        if (h.hasTask()) {
            kv(sb, "pid", Integer.toString(h.pid()));
            kv(sb, "comm", h.comm());
        }
        if (h.cgroup() != null) {
            kv(sb, "cgroup", h.cgroup().path());
            if (h.cgroup().container() != null) kv(sb, "container", h.cgroup().container());
            if (h.cgroup().podUid() != null) kv(sb, "pod_uid", h.cgroup().podUid());
        }
        if (f.protoName() != null) kv(sb, "proto", f.protoName());
        if (f.saddr() != null) {
            kv(sb, "saddr", Flow.address(f.saddr()));
            kv(sb, "sport", Integer.toString(f.sport()));
            kv(sb, "daddr", Flow.address(f.daddr()));
            kv(sb, "dport", Integer.toString(f.dport()));
        }
        e.writeFields(new FieldWriter() {
            @Override public void string(String key, String value) { kv(sb, key, value); }
            @Override public void number(String key, long value) { kv(sb, key, Long.toString(value)); }
            @Override public void numbers(String key, Map<String, Long> values) {
                for (Map.Entry<String, Long> v : values.entrySet()) kv(sb, key + "." + v.getKey(), Long.toString(v.getValue()));
            }
        });
        sb.setLength(sb.length() - 1);
        sb.append("}\n");
        try {
            writer(fileKey(e)).write(sb.toString());
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    /**
     * key="value", with backslash, quote and every control character escaped (\n, \r, \t,
     * \xHH, \u2028...): captured text cannot end a line or forge a field.
     */
    static void kv(StringBuilder sb, String k, String v) {
        sb.append(k).append("=\"");
        if (v != null) escape(sb, v);
        sb.append("\",");
    }

    static void escape(StringBuilder sb, String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
                    else if ((c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
    }

    private BufferedWriter writer(String type) throws IOException {
        BufferedWriter w = writers.get(type);
        if (w == null) {
            w = new BufferedWriter(new java.io.OutputStreamWriter(folder.append(fileFor(type)),
                    java.nio.charset.StandardCharsets.UTF_8), 1 << 14);
            writers.put(type, w);
        }
        return w;
    }

    /**
     * The overview's connection table in connect.log, rewritten after each socket walk as the
     * original rewrote connects.log on each pass: one {@code connection{...}} line per live TCP
     * connection, in the log line format.
     */
    public void connections(List<TcpConnEvent> conns) {
        StringBuilder sb = new StringBuilder(conns.size() * 200 + 1);
        for (TcpConnEvent c : conns) {
            TcpInfo i = c.info();
            sb.append("connection{");
            kv(sb, "ts_ns", Long.toString(c.header().tsNs()));
            kv(sb, "netns", Long.toString(c.header().netns()));
            if (c.owner() != null) {
                kv(sb, "pid", Integer.toString(c.owner().pid()));
                kv(sb, "comm", c.owner().comm());
            }
            kv(sb, "sock", String.format("0x%x", c.skaddr()));
            if (c.role() != null) kv(sb, "role", c.role());
            kv(sb, "src", Flow.endpoint(c.flow().saddr(), c.flow().sport()));
            kv(sb, "dst", Flow.endpoint(c.flow().daddr(), c.flow().dport()));
            kv(sb, "state", i.state());
            if (c.ageNs() >= 0) kv(sb, "age", c.ageText());
            kv(sb, "srtt_us", Long.toString(i.srttUs()));
            kv(sb, "cwnd", Long.toString(i.cwnd()));
            kv(sb, "bytes_sent", Long.toString(i.bytesSent()));
            kv(sb, "bytes_received", Long.toString(i.bytesReceived()));
            kv(sb, "retrans_total", Long.toString(i.retransTotal()));
            sb.setLength(sb.length() - 1);
            sb.append("}\n");
        }
        folder.replace(fileFor("tcp_close"), sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void flush() {
        try {
            for (BufferedWriter w : writers.values()) w.flush();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void close() {
        try {
            for (BufferedWriter w : writers.values()) w.close();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
        writers.clear();
    }
}
