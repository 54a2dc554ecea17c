package dev.netwatcher.event;

/** Output of an event's own keys, so every sink renders the same fields. */
public interface FieldWriter {
    void string(String key, String value);

    void number(String key, long value);
}
