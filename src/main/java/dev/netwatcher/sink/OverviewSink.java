package dev.netwatcher.sink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.netwatcher.event.Busiest;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * No option: the original tool's default view. After each socket walk, a table of the live TCP
 * connections (owner, role, addresses, state, age, srtt, cwnd, bytes each way, retransmits),
 * busiest first, and under it the drops and TCP errors since the start, by reason. It fits the
 * screen as top does: on a terminal, redrawn, as many connections as the terminal has rows for;
 * otherwise each table follows the last under a time line, at most PIPED_ROWS connections; then
 * one line counts the others per state. --top N sets the number (also for JSON, which has them
 * all by default). With JSON, one "overview" object per walk with the same content.
 */
public final class OverviewSink implements EventSink {
    static final String ROW = "%-7s %-15s %-8s %-40s %-40s %-11s %8s %9s %6s %12s %12s %7s%n";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    /** Connections shown per table when the output is not a terminal (and --top is not given). */
    public static final int PIPED_ROWS = 50;
    /** Listening sockets named on the "listening:" line, then a count. */
    static final int LISTENERS_SHOWN = 20;

    private final PrintStream out;
    private final JsonGenerator json;
    private final boolean redraw;
    /** --top N, or -1 when not given. */
    private final int top;
    /** The terminal's rows now (it may be resized), 0 when unknown. */
    private final java.util.function.IntSupplier terminalRows;
    private final List<TcpConnEvent> walk = new ArrayList<>();
    private final Map<String, Long> drops = new TreeMap<>(), errors = new TreeMap<>();
    /** The socket walk's count per state (it comes just before walkDone). */
    private TcpStatesReport states;

    /**
     * json: JSON Lines instead of tables; terminalRows: the rows of the terminal out is (the screen is then
     * redrawn for each table), null when out is not a terminal; top: --top, or -1.
     */
    public OverviewSink(PrintStream out, boolean json, java.util.function.IntSupplier terminalRows, int top) {
        this.out = out;
        this.redraw = terminalRows != null && !json;
        this.terminalRows = terminalRows;
        this.top = top;
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
        if (json != null) writeJson(epochNs, Busiest.of(conns, top), listeners);
        else writeTable(epochNs, Busiest.of(conns, rows(listeners)), listeners);
    }

    /** How many connections the table has room for (see the class comment). */
    private int rows(List<TcpConnEvent> listeners) {
        if (top >= 0) return top;
        if (!redraw) return PIPED_ROWS;
        int lines = terminalRows.getAsInt();
        if (lines <= 0) return PIPED_ROWS;
        // title, states, column header, the "more" line, listening, and the two count tables
        int fixed = 4 + (states != null ? 1 : 0) + (listeners.isEmpty() ? 0 : 1)
                + 1 + Math.max(1, drops.size()) + 1 + Math.max(1, errors.size()) + 1;
        return Math.max(3, lines - fixed);
    }

    private void writeTable(long epochNs, Busiest conns, List<TcpConnEvent> listeners) {
        if (redraw) out.print("\033[H\033[2J");
        out.printf("--- netwatcher %s: %d TCP connections, %d listening; drops and TCP errors since start ---%n",
                TIME.format(Instant.ofEpochSecond(0, epochNs)), conns.total(), listeners.size());
        if (states != null) out.println("TCP sockets by state: " + states.summary());
        out.printf(ROW, "PID", "COMM", "ROLE", "LOCAL", "REMOTE", "STATE", "AGE", "SRTT_MS", "CWND", "TX_BYTES",
                "RX_BYTES", "RETRANS");
        for (TcpConnEvent c : conns.shown()) {
            TcpInfo i = c.info();
            out.printf(ROW, c.owner() == null ? "-" : Integer.toString(c.owner().pid()), c.owner() == null ? "-" : c.owner().comm(),
                    c.role() == null ? "-" : c.role(), Flow.endpoint(c.flow().saddr(), c.flow().sport()),
                    Flow.endpoint(c.flow().daddr(), c.flow().dport()), i.state(), c.ageText(),
                    String.format("%.3f", i.srttUs() / 1e3), i.cwnd(), i.bytesSent(), i.bytesReceived(), i.retransTotal());
        }
        String more = conns.moreLine("connections");
        if (more != null) out.println(more + (top < 0 ? " (--top N shows more)" : ""));
        if (!listeners.isEmpty()) {
            StringBuilder sb = new StringBuilder("listening:");
            for (TcpConnEvent l : listeners.subList(0, Math.min(LISTENERS_SHOWN, listeners.size()))) {
                sb.append(' ').append(Flow.endpoint(l.flow().saddr(), l.flow().sport()));
                if (l.owner() != null) sb.append('(').append(l.owner().comm()).append(')');
            }
            if (listeners.size() > LISTENERS_SHOWN) sb.append(" ... and ").append(listeners.size() - LISTENERS_SHOWN).append(" more");
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

    private void writeJson(long epochNs, Busiest conns, List<TcpConnEvent> listeners) {
        try {
            json.writeStartObject();
            json.writeStringField("type", "overview");
            json.writeNumberField("ts_ns", epochNs);
            json.writeNumberField("connections_total", conns.total());
            json.writeArrayFieldStart("connections");
            for (TcpConnEvent c : conns.shown()) connection(c);
            json.writeEndArray();
            if (conns.more() > 0) {
                json.writeObjectFieldStart("more_by_state");
                for (Map.Entry<String, Long> e : conns.moreByState().entrySet()) json.writeNumberField(e.getKey(), e.getValue());
                json.writeEndObject();
            }
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
