package dev.netwatcher.cli;

import dev.netwatcher.event.Event;
import dev.netwatcher.sink.EventSink;

import java.util.List;

/** Hands each event to every sink. */
final class Fanout {
    private final List<EventSink> sinks;

    Fanout(List<EventSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    void accept(Event e) {
        for (EventSink s : sinks) s.accept(e);
    }

    void flush() {
        for (EventSink s : sinks) s.flush();
    }

    void close() {
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
