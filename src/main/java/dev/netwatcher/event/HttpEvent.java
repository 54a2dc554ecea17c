package dev.netwatcher.event;

/**
 * -i: one HTTP/1.x exchange. side "client": this host sent the request and received
 * the response (latency = request sent -> first response byte received); side
 * "server": this host received the request and answered (time to first response
 * byte sent). The flow reads client -> server. The header is the response's, with
 * the task that sent the request (client) or the response (server) when known.
 */
public record HttpEvent(EventHeader header, Flow flow, String side, String method, String path, String host,
                        int status, String reason, long latencyNs) implements Event {
    @Override
    public String type() {
        return "http";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("side", side);
        out.string("method", method);
        out.string("path", path);
        if (host != null) out.string("host", host);
        out.number("status", status);
        if (reason != null) out.string("reason", reason);
        out.number("latency_ns", latencyNs);
    }

    @Override
    public String detail() {
        return String.format("%-6s %s %s%s -> %d %s %.3fms", side, method, host == null ? "" : host, path, status,
                reason == null ? "" : reason, latencyNs / 1e6);
    }
}
