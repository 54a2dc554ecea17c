package dev.netwatcher.sink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.event.Report;
import dev.netwatcher.event.TcpErrorEvent;
import dev.netwatcher.event.TcpInfo;
import dev.netwatcher.event.TcpStatesReport;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * No option: the original tool's default view. After each socket walk, a table of the live TCP
 * connections (owner, role, addresses, state, age, srtt, cwnd, bytes each way, retransmits)
 * and under it the drops and TCP errors since the start, by reason. On a terminal the screen
 * is redrawn; otherwise each table follows the last under a time line. With JSON, one
 * "overview" object per walk with the same content.
 */
public final class OverviewSink implements EventSink {
    static final String ROW = "%-7s %-15s %-8s %-40s %-40s %-11s %8s %9s %6s %12s %12s %7s%n";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    private final PrintStream out;
    private final JsonGenerator json;
    private final boolean redraw;
    private final List<TcpConnEvent> walk = new ArrayList<>();
    private final Map<String, Long> drops = new TreeMap<>(), errors = new TreeMap<>();
    /** The socket walk's count per state (it comes just before walkDone). */
    private TcpStatesReport states;

    /** redraw: clear the screen before each table (a terminal); json: JSON Lines instead of tables. */
    public OverviewSink(PrintStream out, boolean json, boolean redraw) {
        this.out = out;
        this.redraw = redraw && !json;
        try {
            this.json = json ? new JsonFactory().createGenerator(out, JsonEncoding.UTF8) : null;
            if (this.json != null) this.json.setRootValueSeparator(new SerializedString(""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void accept(Event e) {
        switch (e) {
            case TcpConnEvent c when c.reason().equals("snapshot") -> walk.add(c);
            case DropEvent d -> drops.merge(d.reason(), 1L, Long::sum);
            case TcpErrorEvent t -> errors.merge(t.reason() == null ? t.kind() : t.kind() + " " + t.reason(), 1L, Long::sum);
            default -> { }
        }
    }

    @Override
    public void report(Report r) {
        if (r instanceof TcpStatesReport s) states = s;
    }

    /** The socket walk is complete: show what it found. */
    @Override
    public void walkDone(long epochNs) {
        List<TcpConnEvent> conns = new ArrayList<>(), listeners = new ArrayList<>();
        for (TcpConnEvent c : walk) (c.info().listening() ? listeners : conns).add(c);
        walk.clear();
        // busiest first: what an engineer looks for
        conns.sort(Comparator.comparingLong((TcpConnEvent c) -> -(c.info().bytesSent() + c.info().bytesReceived()))
                .thenComparing(c -> Flow.endpoint(c.flow().saddr(), c.flow().sport())));
        if (json != null) writeJson(epochNs, conns, listeners);
        else writeTable(epochNs, conns, listeners);
    }

    private void writeTable(long epochNs, List<TcpConnEvent> conns, List<TcpConnEvent> listeners) {
        if (redraw) out.print("\033[H\033[2J");
        out.printf("--- netwatcher %s: %d TCP connections, %d listening; drops and TCP errors since start ---%n",
                TIME.format(Instant.ofEpochSecond(0, epochNs)), conns.size(), listeners.size());
        if (states != null) out.println("TCP sockets by state: " + states.summary());
        out.printf(ROW, "PID", "COMM", "ROLE", "LOCAL", "REMOTE", "STATE", "AGE", "SRTT_MS", "CWND", "TX_BYTES",
                "RX_BYTES", "RETRANS");
        for (TcpConnEvent c : conns) {
            TcpInfo i = c.info();
            out.printf(ROW, c.owner() == null ? "-" : Integer.toString(c.owner().pid()), c.owner() == null ? "-" : c.owner().comm(),
                    c.role() == null ? "-" : c.role(), Flow.endpoint(c.flow().saddr(), c.flow().sport()),
                    Flow.endpoint(c.flow().daddr(), c.flow().dport()), i.state(), c.ageText(),
                    String.format("%.3f", i.srttUs() / 1e3), i.cwnd(), i.bytesSent(), i.bytesReceived(), i.retransTotal());
        }
        if (!listeners.isEmpty()) {
            StringBuilder sb = new StringBuilder("listening:");
            for (TcpConnEvent l : listeners) {
                sb.append(' ').append(Flow.endpoint(l.flow().saddr(), l.flow().sport()));
                if (l.owner() != null) sb.append('(').append(l.owner().comm()).append(')');
            }
            out.println(sb);
        }
        counts("DROP REASON", drops);
        counts("TCP ERROR", errors);
        out.flush();
    }

    private void counts(String title, Map<String, Long> m) {
        if (m.isEmpty()) {
            out.printf("%-40s %10s%n", title, "none");
            return;
        }
        out.printf("%-40s %10s%n", title, "COUNT");
        for (Map.Entry<String, Long> e : m.entrySet()) out.printf("%-40s %10d%n", e.getKey(), e.getValue());
    }

    private void writeJson(long epochNs, List<TcpConnEvent> conns, List<TcpConnEvent> listeners) {
        try {
            json.writeStartObject();
            json.writeStringField("type", "overview");
            json.writeNumberField("ts_ns", epochNs);
            json.writeArrayFieldStart("connections");
            for (TcpConnEvent c : conns) connection(c);
            json.writeEndArray();
            json.writeArrayFieldStart("listeners");
            for (TcpConnEvent c : listeners) connection(c);
            json.writeEndArray();
            if (states != null) {
                json.writeObjectFieldStart("tcp_states");
                for (TcpStatesReport.Row s : states.rows()) json.writeNumberField(s.state(), s.sockets());
                json.writeEndObject();
            }
            json.writeObjectFieldStart("drops");
            for (Map.Entry<String, Long> e : drops.entrySet()) json.writeNumberField(e.getKey(), e.getValue());
            json.writeEndObject();
            json.writeObjectFieldStart("tcp_errors");
            for (Map.Entry<String, Long> e : errors.entrySet()) json.writeNumberField(e.getKey(), e.getValue());
            json.writeEndObject();
            json.writeEndObject();
            json.writeRaw('\n');
            json.flush();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    private void connection(TcpConnEvent c) throws IOException {
        Flow f = c.flow();
        TcpInfo i = c.info();
        json.writeStartObject();
        json.writeNumberField("netns", c.header().netns());
        json.writeNumberField("family", f.family());
        json.writeStringField("saddr", Flow.address(f.saddr()));
        json.writeNumberField("sport", f.sport());
        json.writeStringField("daddr", Flow.address(f.daddr()));
        json.writeNumberField("dport", f.dport());
        if (c.owner() != null) {
            json.writeNumberField("pid", c.owner().pid());
            json.writeStringField("comm", c.owner().comm());
        } else {
            json.writeNullField("pid");
            json.writeNullField("comm");
        }
        json.writeStringField("role", c.role());
        json.writeStringField("state", i.state());
        json.writeNumberField("age_ns", c.ageNs());
        json.writeBooleanField("age_at_least", c.ageAtLeast());
        if (!i.listening()) {
            json.writeNumberField("srtt_us", i.srttUs());
            json.writeNumberField("cwnd", i.cwnd());
            json.writeNumberField("bytes_sent", i.bytesSent());
            json.writeNumberField("bytes_received", i.bytesReceived());
            json.writeNumberField("retrans_total", i.retransTotal());
        } else {
            json.writeNumberField("backlog", i.backlog());
            json.writeNumberField("backlog_max", i.backlogMax());
        }
        json.writeEndObject();
    }

    @Override
    public void flush() {
        try {
            if (json != null) json.flush();
            else out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        flush();
    }
}
