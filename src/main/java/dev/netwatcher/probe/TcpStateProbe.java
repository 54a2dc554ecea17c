package dev.netwatcher.probe;

import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.TcpStateEventLayout;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.TcpStateEvent;
import dev.netwatcher.event.TcpStates;

import java.nio.ByteBuffer;

/** -S: struct tcp_state_event (bpf/tcpstate.h). */
public final class TcpStateProbe implements Probe {
    @Override public String name() { return "tcpstate"; }
    @Override public String option() { return "-S"; }
    @Override public int eventType() { return NwEventType.NW_EV_TCP_STATE; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long since = TcpStateEventLayout.oldStateNs(b, off);
        return new TcpStateEvent(Records.header(b, off, ctx), Records.flow(b, off), TcpStateEventLayout.skaddr(b, off),
                TcpStates.name(TcpStateEventLayout.oldstate(b, off)), TcpStates.name(TcpStateEventLayout.newstate(b, off)),
                since == 0 ? -1 : since);
    }

    @Override
    public int recordSize() {
        return TcpStateEventLayout.SIZE;
    }
}
