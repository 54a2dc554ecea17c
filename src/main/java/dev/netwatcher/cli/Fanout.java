package dev.netwatcher.cli;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.Report;
import dev.netwatcher.sink.EventSink;

import java.util.List;

/** Hands each event to every sink. */
final class Fanout implements EventSink {
    private final List<EventSink> sinks;

    Fanout(List<EventSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    @Override
    public void accept(Event e) {
        for (EventSink s : sinks) s.accept(e);
    }

    @Override
    public void report(Report report) {
        for (EventSink s : sinks) s.report(report);
    }

    @Override
    public void walkDone(long epochNs) {
        for (EventSink s : sinks) s.walkDone(epochNs);
    }

    @Override
    public void flush() {
        for (EventSink s : sinks) s.flush();
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (EventSink s : sinks) {
            try {
                s.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
