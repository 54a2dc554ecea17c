package dev.netwatcher.sink;

import dev.netwatcher.analysis.TimeLoad;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.FlowTotal;

import java.util.List;

/** Where events go: console, JSON, log files. Not thread-safe: one consumer thread calls it. */
public interface EventSink extends AutoCloseable {
    void accept(Event event);

    /** -L: the time-load table of one interval. */
    default void timeLoad(TimeLoad.Report report) {}

    /** -t/-u: packets and bytes per flow so far (periodically and at exit). */
    default void flowTotals(long epochNs, List<FlowTotal> totals) {}

    /** --rtt: RTT samples per remote address so far (periodically and at exit). */
    default void rttHistograms(long epochNs, List<dev.netwatcher.event.RttHistogram> histograms) {}

    /** A walk of every socket (-x, the overview) has delivered all its tcp_conn snapshots. */
    default void walkDone(long epochNs) {}

    /** Called when the consumer has nothing more at the moment: push buffered output out. */
    void flush();

    @Override
    void close();
}
