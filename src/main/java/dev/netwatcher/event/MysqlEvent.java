package dev.netwatcher.event;

/**
 * -M: one MySQL/MariaDB command and the first packet of its answer. side "client": this host sent
 * the command (latency: command sent -> answer's first byte received); "server": it received it
 * (time to the answer's first byte sent). query: COM_QUERY / COM_STMT_PREPARE text (cut), or
 * COM_INIT_DB's schema; stmtId for COM_STMT_EXECUTE (else -1). outcome: ok, error, result_set,
 * eof, local_infile; columns of a result set (else -1). The flow reads client -> server.
 */
public record MysqlEvent(EventHeader header, Flow flow, String side, String command, String query, long stmtId,
                         long latencyNs, String outcome, int errorCode, String error, long columns) implements Event {
    @Override
    public String type() {
        return "mysql";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("side", side);
        out.string("command", command);
        if (query != null) out.string("query", query);
        if (stmtId >= 0) out.number("stmt_id", stmtId);
        out.number("latency_ns", latencyNs);
        out.string("outcome", outcome);
        if (outcome.equals("error")) {
            out.number("error_code", errorCode);
            if (error != null) out.string("error", error);
        }
        if (columns >= 0) out.number("columns", columns);
    }

    @Override
    public String detail() {
        String what = query != null ? query : stmtId >= 0 ? "stmt " + stmtId : "";
        String result = outcome.equals("error") ? "ERR " + errorCode + " " + (error == null ? "" : error)
                : outcome.equals("result_set") ? columns + " columns" : outcome.toUpperCase(java.util.Locale.ROOT);
        return String.format("%-6s %s %s -> %s %.3fms", side, command, what, result, latencyNs / 1e6);
    }
}
