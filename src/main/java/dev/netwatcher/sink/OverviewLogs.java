package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.TcpConnEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * The log files of the overview: events as usual, but the socket walks' snapshots become the
 * connection table of connect.log, rewritten after each walk (conn.log would grow by every
 * socket each second).
 */
public record OverviewLogs(LogFileSink sink, List<TcpConnEvent> walk) implements EventSink {
    public OverviewLogs(LogFileSink sink) {
        this(sink, new ArrayList<>());
    }

    @Override
    public void accept(Event e) {
        if (e instanceof TcpConnEvent c && c.reason().equals("snapshot")) {
            if (!c.info().listening()) walk.add(c);
        } else {
            sink.accept(e);
        }
    }

    @Override
    public void walkDone(long epochNs) {
        sink.connections(walk);
        walk.clear();
    }

    @Override
    public void flush() {
        sink.flush();
    }

    @Override
    public void close() {
        sink.close();
    }
}
