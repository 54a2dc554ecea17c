package dev.netwatcher.probe;

import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;

import java.nio.ByteBuffer;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/** -k: struct drop_event (bpf/drop.h). Reason names from the kernel's BTF, location via kallsyms with -T. */
public final class DropProbe implements Probe {
    static final int LOCATION = BODY, REASON = BODY + 8, LEN = BODY + 12, SEQ = BODY + 16, TCP_FLAGS = BODY + 20,
            SIZE = BODY + 24;

    @Override public String name() { return "drop"; }
    @Override public String option() { return "-k"; }
    @Override public int eventType() { return 3; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long location = b.getLong(off + LOCATION);
        int reason = b.getInt(off + REASON);
        String where = ctx.symbols() != null ? ctx.symbols().resolve(location) : null;
        if (where == null) where = "0x" + Long.toHexString(location);
        return new DropEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off), ctx.names().dropReason(reason),
                reason, where, b.getInt(off + LEN), Integer.toUnsignedLong(b.getInt(off + SEQ)),
                Byte.toUnsignedInt(b.get(off + TCP_FLAGS)));
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("drop_event", SIZE, Records.with(Records.commonFields(),
                f("location", LOCATION, 8), f("reason", REASON, 4), f("len", LEN, 4), f("seq", SEQ, 4),
                f("tcp_flags", TCP_FLAGS, 1)));
    }
}
