package dev.netwatcher.event;

import java.util.List;

/**
 * --dns: one DNS query and its answer. side "client": this host asked (latency =
 * query sent -> answer received); "server": this host answered. The flow reads
 * client -> server. answers: the answer section's records as text ("A 198.18.0.7",
 * "CNAME x.example."), at most as many as fit in the copied bytes.
 */
public record DnsEvent(EventHeader header, Flow flow, String side, int id, String name, String qtype, String rcode,
                       List<String> answers, long latencyNs) implements Event {
    @Override
    public String type() {
        return "dns";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("side", side);
        out.number("id", id);
        out.string("name", name);
        out.string("qtype", qtype);
        out.string("rcode", rcode);
        out.string("answers", String.join(", ", answers));
        out.number("latency_ns", latencyNs);
    }

    @Override
    public String detail() {
        return String.format("%-6s %s %s -> %s%s %.3fms", side, qtype, name, rcode,
                answers.isEmpty() ? "" : " [" + String.join(", ", answers) + "]", latencyNs / 1e6);
    }
}
