package dev.netwatcher.event;

/** -k: a packet freed with a drop reason. location is "func+0xoff" with -T, else the hex address. */
public record DropEvent(EventHeader header, Flow flow, String reason, int reasonCode, String location, int len,
                        long seq, int tcpFlags) implements Event {
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
    }

    @Override
    public String detail() {
        return String.format("%-22s %s len=%d", reason, location, len);
    }
}
