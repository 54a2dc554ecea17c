package dev.netwatcher.event;

import java.util.List;

/**
 * -k: a packet freed with a drop reason. location is "func+0xoff" with -T, else the hex address;
 * stack (innermost frame first, "func+0xoff") only with --stack, else null. frame: the packet's bytes
 * with -w, else null (no sink but the pcapng file reads them).
 */
public record DropEvent(EventHeader header, Flow flow, String reason, int reasonCode, String location, int len,
                        long seq, int tcpFlags, List<String> stack, Frame frame) implements Event {
    public DropEvent(EventHeader header, Flow flow, String reason, int reasonCode, String location, int len,
                     long seq, int tcpFlags, List<String> stack) {
        this(header, flow, reason, reasonCode, location, len, seq, tcpFlags, stack, null);
    }

    @Override
    public String type() {
        return "drop";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("reason", reason);
        out.number("reason_code", reasonCode);
        out.string("location", location);
        out.number("len", len);
        if (flow.proto() == 6) {
            out.number("seq", seq);
            out.string("tcp_flags", TcpFlags.format(tcpFlags));
        }
        if (stack != null) out.strings("stack", stack);
    }

    @Override
    public String detail() {
        String d = String.format("%-22s %s len=%d", reason, location, len);
        return stack == null || stack.isEmpty() ? d : d + " stack=" + String.join("<", shortStack(stack, 4));
    }

    /** The first n frames' function names (no offsets): the console's view of a stack. */
    static List<String> shortStack(List<String> stack, int n) {
        return stack.stream().limit(n).map(f -> {
            int plus = f.indexOf('+');
            return plus > 0 ? f.substring(0, plus) : f;
        }).toList();
    }
}
