package dev.netwatcher.probe;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.TcpStateEvent;
import dev.netwatcher.event.TcpStates;

import java.nio.ByteBuffer;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/** -S: struct tcp_state_event (bpf/tcpstate.h). */
public final class TcpStateProbe implements Probe {
    static final int SKADDR = BODY, OLD_STATE_NS = BODY + 8, OLDSTATE = BODY + 16, NEWSTATE = BODY + 20, SIZE = BODY + 24;

    @Override public String name() { return "tcpstate"; }
    @Override public String option() { return "-S"; }
    @Override public int eventType() { return 1; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long since = b.getLong(off + OLD_STATE_NS);
        return new TcpStateEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off), b.getLong(off + SKADDR),
                TcpStates.name(b.getInt(off + OLDSTATE)), TcpStates.name(b.getInt(off + NEWSTATE)), since == 0 ? -1 : since);
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("tcp_state_event", SIZE, Records.with(Records.commonFields(),
                f("skaddr", SKADDR, 8), f("old_state_ns", OLD_STATE_NS, 8), f("oldstate", OLDSTATE, 4), f("newstate", NEWSTATE, 4)));
    }
}
