package dev.netwatcher.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * MySQL/MariaDB client/server protocol (dev.mysql.com "Client/Server Protocol"): a packet is a
 * 3-byte little-endian length, a sequence id, then the payload. A command is sequence 0 from the
 * client; the first packet of its answer is sequence 1: OK (0x00), ERR (0xff: code, '#' and a
 * 5-character SQL state, message), EOF (0xfe, short), a LOCAL INFILE request (0xfb), or the column
 * count of a result set (a length-encoded integer). Never throws, never reads outside [0, len).
 */
public final class Mysql {
    private Mysql() {}

    /** Query text longer than this many characters is cut (and ends with "…"). */
    public static final int QUERY_MAX = 400;

    /** stmtId: COM_STMT_EXECUTE/CLOSE/RESET's statement id, else -1; query: COM_QUERY/COM_STMT_PREPARE's text (cut), COM_INIT_DB's schema. */
    public record Command(String name, String query, long stmtId, boolean answered) {}

    /** outcome "ok", "error", "result_set", "eof", "local_infile"; columns for a result set, else -1. */
    public record Answer(String outcome, int errorCode, String error, long columns) {}

    private static final String[] NAMES = new String[32];

    static {
        String[] n = {"sleep", "quit", "init_db", "query", "field_list", "create_db", "drop_db", "refresh", "shutdown",
                "statistics", "process_info", "connect", "process_kill", "debug", "ping", "time", "delayed_insert",
                "change_user", "binlog_dump", "table_dump", "connect_out", "register_slave", "stmt_prepare",
                "stmt_execute", "stmt_send_long_data", "stmt_close", "stmt_reset", "set_option", "stmt_fetch", "daemon",
                "binlog_dump_gtid", "reset_connection"};
        System.arraycopy(n, 0, NAMES, 0, n.length);
    }

    private static int len(byte[] d, int n) {
        return n < 4 ? -1 : (d[0] & 0xff) | (d[1] & 0xff) << 8 | (d[2] & 0xff) << 16;
    }

    /** A command starting d (sequence 0), or empty. */
    public static Optional<Command> command(byte[] d, int n) {
        n = Math.min(n, d.length);
        int plen = len(d, n);
        if (plen < 1 || n < 5 || d[3] != 0) return Optional.empty();
        int cmd = d[4] & 0xff;
        if (cmd >= NAMES.length) return Optional.empty();
        String name = NAMES[cmd];
        String query = null;
        long stmt = -1;
        int end = Math.min(n, 4 + plen);
        switch (cmd) {
            case 0x03, 0x16, 0x02 -> query = text(d, 5, end, plen - 1);
            case 0x17, 0x19, 0x1a -> {
                if (end >= 9) stmt = (d[5] & 0xffL) | (d[6] & 0xffL) << 8 | (d[7] & 0xffL) << 16 | (d[8] & 0xffL) << 24;
            }
            default -> { }
        }
        // COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA get no answer
        boolean answered = cmd != 0x01 && cmd != 0x19 && cmd != 0x18;
        return Optional.of(new Command(name, query, stmt, answered));
    }

    /** The first packet of an answer starting d (sequence 1), or empty. */
    public static Optional<Answer> answer(byte[] d, int n) {
        n = Math.min(n, d.length);
        int plen = len(d, n);
        if (plen < 1 || n < 5 || d[3] != 1) return Optional.empty();
        int end = Math.min(n, 4 + plen);
        int first = d[4] & 0xff;
        switch (first) {
            case 0x00:
                return plen >= 7 ? Optional.of(new Answer("ok", 0, null, -1)) : Optional.empty();
            case 0xff: {
                if (end < 7) return Optional.empty();
                int code = (d[5] & 0xff) | (d[6] & 0xff) << 8;
                int at = 7;
                if (end >= 13 && d[7] == '#') at = 13; // '#' and the SQL state
                return Optional.of(new Answer("error", code, text(d, at, end, end - at), -1));
            }
            case 0xfe:
                return plen < 9 ? Optional.of(new Answer("eof", 0, null, -1)) : Optional.empty();
            case 0xfb:
                return Optional.of(new Answer("local_infile", 0, null, -1));
            default: {
                long cols = lenenc(d, 4, end);
                return cols > 0 ? Optional.of(new Answer("result_set", 0, null, cols)) : Optional.empty();
            }
        }
    }

    private static long lenenc(byte[] d, int at, int end) {
        if (at >= end) return -1;
        int b = d[at] & 0xff;
        if (b < 0xfb) return b;
        int size = b == 0xfc ? 2 : b == 0xfd ? 3 : b == 0xfe ? 8 : -1;
        if (size < 0 || at + 1 + size > end) return -1;
        long v = 0;
        for (int i = 0; i < size; i++) v |= (d[at + 1 + i] & 0xffL) << (8 * i);
        return v;
    }

    /** want characters from at (cut at end and at QUERY_MAX); control characters become spaces. */
    private static String text(byte[] d, int at, int end, int want) {
        int to = Math.min(end, at + Math.max(0, want));
        if (to <= at) return "";
        String s = new String(d, at, to - at, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(Math.min(s.length(), QUERY_MAX + 1));
        for (int i = 0; i < s.length() && sb.length() < QUERY_MAX; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? ' ' : c);
        }
        boolean cut = to - at < want || s.length() > QUERY_MAX;
        return cut ? sb + "…" : sb.toString();
    }
}
