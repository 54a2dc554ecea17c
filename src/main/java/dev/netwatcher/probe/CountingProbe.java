package dev.netwatcher.probe;

import dev.netwatcher.event.Event;

import java.nio.ByteBuffer;

/** A probe whose programs write no records (they keep maps user space reads: socket owners, -p's counts). */
interface CountingProbe extends Probe {
    @Override
    default int eventType() {
        return 0;
    }

    @Override
    default int[] eventTypes() {
        return new int[0];
    }

    @Override
    default Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        return null;
    }
}
