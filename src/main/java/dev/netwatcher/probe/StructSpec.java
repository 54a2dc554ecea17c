package dev.netwatcher.probe;

import java.util.List;

/**
 * The Java view of one C struct: its size and the (offset, size) of every field a
 * decoder reads. StructLayoutTest compares it with the BTF of the compiled object.
 */
public record StructSpec(String struct, int size, List<FieldSpec> fields) {
    public record FieldSpec(String path, int offset, int size) {}

    public static FieldSpec f(String path, int offset, int size) {
        return new FieldSpec(path, offset, size);
    }
}
