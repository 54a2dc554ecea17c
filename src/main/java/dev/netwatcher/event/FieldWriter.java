package dev.netwatcher.event;

import java.util.List;
import java.util.Map;

/** Output of an event's own keys, so every sink renders the same fields. */
public interface FieldWriter {
    void string(String key, String value);

    void number(String key, long value);

    /** A number with a fraction, rounded to two decimals (JSON: a number; text elsewhere). */
    default void decimal(String key, double value) {
        string(key, String.format(java.util.Locale.ROOT, "%.2f", value));
    }

    /** A list of texts, in order (JSON: an array, e.g. a drop's "stack"); by default one space-separated text. */
    default void strings(String key, List<String> values) {
        string(key, String.join(" ", values));
    }

    /** A group of named numbers, in order (JSON: a nested object, e.g. "layers_ns"). */
    void numbers(String key, Map<String, Long> values);

    /** The present layers of l as numbers (a sink may write them without building a map). */
    default void layers(String key, Layers l) {
        numbers(key, l.asMap());
    }

    /** A flow's keys, as every event line starts: family, proto, saddr, sport, daddr, dport, netns. */
    default void flow(Flow f, long netns) {
        string("family", f.familyName());
        string("proto", f.protoName());
        string("saddr", f.saddr() == null ? null : Flow.address(f.saddr()));
        number("sport", f.sport());
        string("daddr", f.daddr() == null ? null : Flow.address(f.daddr()));
        number("dport", f.dport());
        number("netns", netns);
    }

    /** The kernel address of a socket, as "sock": "0x..." (identifies a connection). */
    default void socket(long address) {
        string("sock", "0x" + Long.toHexString(address));
    }
}
