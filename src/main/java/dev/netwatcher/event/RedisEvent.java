package dev.netwatcher.event;

/**
 * -R: one Redis command and its reply. side "client": this host sent the command (latency: the
 * command's first byte sent -> the reply's first byte received); "server": it received it. key:
 * the command's first argument (cut), when it has one. reply: simple, error, integer, bulk, null,
 * array, map, set, double, boolean, big_number, verbatim; error: the error's text. Pipelined
 * commands are paired with their replies in order. The flow reads client -> server.
 */
public record RedisEvent(EventHeader header, Flow flow, String side, String command, String key, long latencyNs,
                         String reply, String error) implements Event {
    @Override
    public String type() {
        return "redis";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("side", side);
        out.string("command", command);
        if (key != null) out.string("key", key);
        out.number("latency_ns", latencyNs);
        out.string("reply", reply);
        if (error != null) out.string("error", error);
    }

    @Override
    public String detail() {
        return String.format("%-6s %s%s -> %s%s %.3fms", side, command, key == null ? "" : " " + key, reply,
                error == null ? "" : " " + error, latencyNs / 1e6);
    }
}
