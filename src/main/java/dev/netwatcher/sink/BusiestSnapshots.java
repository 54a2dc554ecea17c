package dev.netwatcher.sink;

import dev.netwatcher.event.Busiest;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Report;
import dev.netwatcher.event.TcpConnEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * -x with a bounded table: a socket walk's tcp_conn snapshots are held until the walk is done, then
 * the busiest top of them go on to the sink, and moreLine (when given) gets the line that counts the
 * others per state. Everything else passes through as it comes.
 */
public final class BusiestSnapshots implements EventSink {
    private final EventSink inner;
    private final int top;
    private final Consumer<String> moreLine;
    private final List<TcpConnEvent> walk = new ArrayList<>();

    public BusiestSnapshots(EventSink inner, int top, Consumer<String> moreLine) {
        this.inner = inner;
        this.top = top;
        this.moreLine = moreLine;
    }

    @Override
    public void accept(Event e) {
        if (e instanceof TcpConnEvent c && c.reason().equals("snapshot")) walk.add(c);
        else inner.accept(e);
    }

    @Override
    public void report(Report r) {
        inner.report(r);
    }

    @Override
    public void walkDone(long epochNs) {
        Busiest b = Busiest.of(walk, top);
        walk.clear();
        for (TcpConnEvent c : b.shown()) inner.accept(c);
        String more = b.moreLine("sockets in this walk");
        if (more != null && moreLine != null) moreLine.accept(more);
        inner.walkDone(epochNs);
    }

    @Override
    public void flush() {
        inner.flush();
    }

    @Override
    public void close() {
        inner.close();
    }
}
