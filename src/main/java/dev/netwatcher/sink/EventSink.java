package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.Report;

/** Where events go: console, JSON, log files. Not thread-safe: one consumer thread calls it. */
public interface EventSink extends AutoCloseable {
    void accept(Event event);

    /** A periodic report (-L, -t/-u flow totals, --rtt); a sink that shows none ignores it. */
    default void report(Report report) {}

    /** A walk of every socket (-x, the overview) has delivered all its tcp_conn snapshots. */
    default void walkDone(long epochNs) {}

    /** Called when the consumer has nothing more at the moment: push buffered output out. */
    void flush();

    @Override
    void close();
}
