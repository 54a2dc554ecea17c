package dev.netwatcher.probe;

import dev.netwatcher.event.Event;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One tool: a BPF object (bpf/NAME.bpf.c compiled to /bpf/NAME.bpf.o in the jar),
 * the event type its records carry, and the decoder of those records.
 */
public interface Probe {
    /** Object name: the resource /bpf/NAME.bpf.o. */
    String name();

    /** The option that turns it on, e.g. "-S", for messages. */
    String option();

    /** enum nw_event_type value of its records. */
    int eventType();

    Event decode(ByteBuffer b, int off, int len, DecodeContext ctx);

    /** Java view of the event struct, checked against the object's BTF in tests. */
    StructSpec layout();

    /** What each program watches, for "unavailable" messages: program name -> description. */
    default String describe(String program) {
        return program;
    }
}
