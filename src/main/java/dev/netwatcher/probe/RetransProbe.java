package dev.netwatcher.probe;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.event.TcpStates;

import java.nio.ByteBuffer;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/** -r: struct retrans_event (bpf/retrans.h). */
public final class RetransProbe implements Probe {
    static final int SKADDR = BODY, SEQ = BODY + 8, END_SEQ = BODY + 12, ERR = BODY + 16, TOTAL = BODY + 20,
            STATE = BODY + 24, CA_STATE = BODY + 25, SIZE = BODY + 32;

    @Override public String name() { return "retrans"; }
    @Override public String option() { return "-r"; }
    @Override public int eventType() { return 2; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long seq = Integer.toUnsignedLong(b.getInt(off + SEQ));
        int length = b.getInt(off + END_SEQ) - b.getInt(off + SEQ);
        return new RetransEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off), b.getLong(off + SKADDR),
                TcpStates.name(Byte.toUnsignedInt(b.get(off + STATE))), seq, length, b.getInt(off + ERR),
                Integer.toUnsignedLong(b.getInt(off + TOTAL)), TcpStates.caName(Byte.toUnsignedInt(b.get(off + CA_STATE))));
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("retrans_event", SIZE, Records.with(Records.commonFields(),
                f("skaddr", SKADDR, 8), f("seq", SEQ, 4), f("end_seq", END_SEQ, 4), f("err", ERR, 4),
                f("total_retrans", TOTAL, 4), f("state", STATE, 1), f("ca_state", CA_STATE, 1)));
    }
}
