package dev.netwatcher.probe;

import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.TcpErrorEventLayout;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.TcpErrorEvent;
import dev.netwatcher.event.TcpStates;
import dev.netwatcher.kernel.Errno;

import java.nio.ByteBuffer;

import static dev.netwatcher.contract.NwTcpErrorKind.*;

/** -e: struct tcp_error_event (bpf/tcperr.h). */
public final class TcpErrorProbe implements Probe {
    @Override public String name() { return "tcperr"; }
    @Override public String option() { return "-e"; }
    @Override public int eventType() { return NwEventType.NW_EV_TCP_ERROR; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        int kind = TcpErrorEventLayout.kind(b, off);
        int reason = TcpErrorEventLayout.reason(b, off);
        int state = TcpErrorEventLayout.state(b, off);
        String kindName = switch (kind) {
            case NW_ERR_RST_SENT -> "rst_sent";
            case NW_ERR_RST_RECV -> "rst_recv";
            case NW_ERR_BAD_CSUM -> "bad_csum";
            case NW_ERR_SOCK_ERROR -> "sock_error";
            case NW_ERR_BAD_SEQ -> "invalid_seq";
            default -> "kind_" + kind;
        };
        String reasonName = switch (kind) {
            case NW_ERR_RST_SENT -> ctx.names().rstReason(reason);
            case NW_ERR_SOCK_ERROR -> Errno.name(reason);
            case NW_ERR_BAD_SEQ -> ctx.names().dropReason(reason);
            default -> null;
        };
        return new TcpErrorEvent(Records.header(b, off, ctx), Records.flow(b, off), kindName, reasonName,
                state == 0 ? null : TcpStates.name(state), Integer.toUnsignedLong(TcpErrorEventLayout.seq(b, off)),
                Integer.toUnsignedLong(TcpErrorEventLayout.ack(b, off)));
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
    public int recordSize() {
        return TcpErrorEventLayout.SIZE;
    }
}
