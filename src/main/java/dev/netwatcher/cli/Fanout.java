package dev.netwatcher.cli;

import dev.netwatcher.event.Event;
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
    public void timeLoad(dev.netwatcher.analysis.TimeLoad.Report report) {
        for (EventSink s : sinks) s.timeLoad(report);
    }

    @Override
    public void flowTotals(long epochNs, List<dev.netwatcher.event.FlowTotal> totals) {
        for (EventSink s : sinks) s.flowTotals(epochNs, totals);
    }

    @Override
    public void rttHistograms(long epochNs, List<dev.netwatcher.event.RttHistogram> histograms) {
        for (EventSink s : sinks) s.rttHistograms(epochNs, histograms);
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
