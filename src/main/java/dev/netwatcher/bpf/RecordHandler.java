package dev.netwatcher.bpf;

import java.nio.ByteBuffer;

/**
 * Receives one ring-buffer record: {@code length} bytes at {@code offset} of a
 * little-endian buffer that is only valid during the call (it views kernel
 * memory that is handed back to the producer afterwards).
 */
@FunctionalInterface
public interface RecordHandler {
    void onRecord(ByteBuffer data, int offset, int length);
}
