package dev.netwatcher.sink;

import dev.netwatcher.event.Event;

/** Where events go: console, JSON, log files. Not thread-safe: one consumer thread calls it. */
public interface EventSink extends AutoCloseable {
    void accept(Event event);

    /** Called when the consumer has nothing more at the moment: push buffered output out. */
    void flush();

    @Override
    void close();
}
