package dev.netwatcher.probe;

import dev.netwatcher.contract.DropEventLayout;
import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;

import java.nio.ByteBuffer;

/** -k: struct drop_event (bpf/drop.h). Reason names from the kernel's BTF, location via kallsyms with -T. */
public final class DropProbe implements Probe {
    @Override public String name() { return "drop"; }
    @Override public String option() { return "-k"; }
    @Override public int eventType() { return NwEventType.NW_EV_DROP; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long location = DropEventLayout.location(b, off);
        int reason = DropEventLayout.reason(b, off);
        String where = ctx.symbols() != null ? ctx.symbols().resolve(location) : null;
        if (where == null) where = "0x" + Long.toHexString(location);
        return new DropEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off), ctx.names().dropReason(reason),
                reason, where, DropEventLayout.len(b, off), Integer.toUnsignedLong(DropEventLayout.seq(b, off)),
                DropEventLayout.tcpFlags(b, off));
    }

    @Override
    public int recordSize() {
        return DropEventLayout.SIZE;
    }
}
