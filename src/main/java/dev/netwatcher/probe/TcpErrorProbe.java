package dev.netwatcher.probe;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.TcpErrorEvent;
import dev.netwatcher.event.TcpStates;
import dev.netwatcher.kernel.Errno;

import java.nio.ByteBuffer;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/** -e: struct tcp_error_event (bpf/tcperr.h). */
public final class TcpErrorProbe implements Probe {
    static final int KIND = BODY, REASON = BODY + 4, SEQ = BODY + 8, ACK = BODY + 12, STATE = BODY + 16,
            TCP_FLAGS = BODY + 17, SIZE = BODY + 24;
    static final int RST_SENT = 1, RST_RECV = 2, BAD_CSUM = 3, SOCK_ERROR = 4, BAD_SEQ = 5;

    @Override public String name() { return "tcperr"; }
    @Override public String option() { return "-e"; }
    @Override public int eventType() { return 4; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        int kind = b.getInt(off + KIND);
        int reason = b.getInt(off + REASON);
        int state = Byte.toUnsignedInt(b.get(off + STATE));
        String kindName = switch (kind) {
            case RST_SENT -> "rst_sent";
            case RST_RECV -> "rst_recv";
            case BAD_CSUM -> "bad_csum";
            case SOCK_ERROR -> "sock_error";
            case BAD_SEQ -> "invalid_seq";
            default -> "kind_" + kind;
        };
        String reasonName = switch (kind) {
            case RST_SENT -> ctx.names().rstReason(reason);
            case SOCK_ERROR -> Errno.name(reason);
            case BAD_SEQ -> ctx.names().dropReason(reason);
            default -> null;
        };
        return new TcpErrorEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off), kindName, reasonName,
                state == 0 ? null : TcpStates.name(state), Integer.toUnsignedLong(b.getInt(off + SEQ)),
                Integer.toUnsignedLong(b.getInt(off + ACK)));
    }

    @Override
    public String describe(String program) {
        return switch (program) {
            case "nw_tcp_rst_sent" -> "resets sent (tcp_send_reset)";
            case "nw_tcp_rst_recv" -> "resets received (tcp_receive_reset)";
            case "nw_tcp_bad_csum" -> "bad checksums (tcp_bad_csum)";
            case "nw_sock_error" -> "socket errors (inet_sk_error_report)";
            case "nw_tcp_bad_seq" -> "segments dropped for their sequence numbers (kfree_skb)";
            default -> program;
        };
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("tcp_error_event", SIZE, Records.with(Records.commonFields(),
                f("kind", KIND, 4), f("reason", REASON, 4), f("seq", SEQ, 4), f("ack", ACK, 4),
                f("state", STATE, 1), f("tcp_flags", TCP_FLAGS, 1)));
    }
}
