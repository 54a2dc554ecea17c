package dev.netwatcher.event;

import java.util.List;

/**
 * A periodic report (-L's time load, -t/-u flow totals, --rtt histograms): rows of one kind at
 * one time. It travels the event road: a sink takes it through {@code EventSink.report}, writes
 * each row's keys through {@link FieldWriter} as it does an event's, and the console prints the
 * report's own table. A new report is a new implementation; no sink changes.
 */
public interface Report {
    /** The JSON "type" of each row, e.g. "flow_totals". */
    String type();

    /** When it was taken (epoch ns): the "ts_ns" of each row. */
    long tsNs();

    List<? extends Row> rows();

    /** Keys every row shares, after "type" and "ts_ns" and before the row's own (JSON). */
    default void writeFields(FieldWriter w) {}

    /** The console's heading, e.g. "flow totals, 12:00:01" (time: tsNs as the console prints it). */
    String title(String time);

    /** The console's column header line, aligned with {@link Row#line()}. */
    String columns();

    /** One row. */
    interface Row {
        /** Its keys after "type" and "ts_ns" (JSON). */
        void writeFields(FieldWriter w);

        /** Its console line, without the line separator. */
        String line();
    }
}
