package dev.netwatcher.probe;

import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.RetransEventLayout;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.event.TcpStates;

import java.nio.ByteBuffer;

/** -r: struct retrans_event (bpf/retrans.h). */
public final class RetransProbe implements Probe {
    @Override public String name() { return "retrans"; }
    @Override public String option() { return "-r"; }
    @Override public int eventType() { return NwEventType.NW_EV_RETRANS; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long seq = Integer.toUnsignedLong(RetransEventLayout.seq(b, off));
        int length = RetransEventLayout.endSeq(b, off) - RetransEventLayout.seq(b, off);
        return new RetransEvent(Records.header(b, off, ctx), Records.flow(b, off), RetransEventLayout.skaddr(b, off),
                TcpStates.name(RetransEventLayout.state(b, off)), seq, length, RetransEventLayout.err(b, off),
                Integer.toUnsignedLong(RetransEventLayout.totalRetrans(b, off)), TcpStates.caName(RetransEventLayout.caState(b, off)));
    }

    @Override
    public int recordSize() {
        return RetransEventLayout.SIZE;
    }
}
