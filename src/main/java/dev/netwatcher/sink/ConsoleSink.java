package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** Aligned columns with one header line, in the style of the bcc tools. */
public final class ConsoleSink implements EventSink {
    static final String FORMAT = "%-15s %-9s %-10s %-7s %-15s %-5s %-22s %-22s %s%n";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    private final PrintStream out;
    private boolean headerDone;

    public ConsoleSink(PrintStream out) {
        this.out = out;
    }

    public void header() {
        if (!headerDone) {
            out.printf(FORMAT, "TIME", "EVENT", "NETNS", "PID", "COMM", "PROTO", "SOURCE", "DESTINATION", "DETAIL");
            headerDone = true;
        }
    }

    @Override
    public void accept(Event e) {
        header();
        out.print(line(e));
    }

    static String line(Event e) {
        EventHeader h = e.header();
        Flow f = e.flow();
        String time = TIME.format(Instant.ofEpochSecond(0, h.tsNs()));
        String proto = f.protoName() == null ? "-" : f.protoName();
        return String.format(FORMAT, time, e.type(), h.netns() == 0 ? "-" : Long.toString(h.netns()),
                h.hasTask() ? Integer.toString(h.pid()) : "-", h.hasTask() ? h.comm() : "-", proto,
                Flow.endpoint(f.saddr(), f.sport()), Flow.endpoint(f.daddr(), f.dport()), e.detail());
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.flush();
    }
}
