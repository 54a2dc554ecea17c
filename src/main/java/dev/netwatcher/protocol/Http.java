package dev.netwatcher.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

/** HTTP/1.x start lines and the Host header, from the first bytes of a message (RFC 9112). */
public final class Http {
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS",
            "CONNECT", "TRACE");
    /** Paths and hosts are cut to this many characters in events. */
    static final int MAX_TEXT = 256;

    public record Request(String method, String path, String version, String host) {}

    public record Status(String version, int code, String reason) {}

    private Http() {}

    /** "GET /path HTTP/1.1" and, if it is in the copied bytes, the Host header; query values hidden. */
    public static Optional<Request> request(byte[] data, int len) {
        return request(data, len, false);
    }

    /**
     * The same; unless fullPath, the path keeps its query's names but not their values
     * ({@code /login?user=…&token=…}) and an absolute-form target loses its user info:
     * tokens and passwords travel there, and netwatcher sees every user's requests.
     */
    public static Optional<Request> request(byte[] data, int len, boolean fullPath) {
        String head = text(data, len);
        int eol = head.indexOf("\r\n");
        if (eol < 0) eol = head.length(); // the line was cut by the copy limit
        String[] parts = head.substring(0, eol).split(" ", -1);
        if (parts.length < 2 || !METHODS.contains(parts[0])) return Optional.empty();
        String version = parts.length >= 3 && parts[2].startsWith("HTTP/1.") ? parts[2] : null;
        if (parts.length >= 3 && version == null) return Optional.empty();
        return Optional.of(new Request(parts[0], fullPath ? cut(parts[1]) : redact(parts[1]), version, header(head, eol, "host")));
    }

    /** "HTTP/1.1 200 OK". */
    public static Optional<Status> status(byte[] data, int len) {
        String head = text(data, len);
        if (!head.startsWith("HTTP/1.")) return Optional.empty();
        int eol = head.indexOf("\r\n");
        if (eol < 0) eol = head.length();
        String[] parts = head.substring(0, eol).split(" ", 3);
        if (parts.length < 2 || parts[1].length() != 3) return Optional.empty();
        int code;
        try {
            code = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (code < 100 || code > 999) return Optional.empty();
        return Optional.of(new Status(parts[0], code, parts.length == 3 ? cut(parts[2]) : null));
    }

    /**
     * The raw target cut and masked like any text, with query values replaced by "…"
     * and "scheme://user:pass@host/" without "user:pass@".
     */
    static String redact(String path) {
        int scheme = path.indexOf("://");
        if (scheme > 0) {
            int hostStart = scheme + 3, slash = path.indexOf('/', hostStart), at = path.indexOf('@', hostStart);
            if (at >= 0 && (slash < 0 || at < slash)) path = path.substring(0, hostStart) + path.substring(at + 1);
        }
        int q = path.indexOf('?');
        if (q < 0) return cut(path);
        StringBuilder b = new StringBuilder(Math.min(path.length(), MAX_TEXT)).append(cut(path.substring(0, q + 1)));
        String[] params = path.substring(q + 1).split("&", -1);
        for (int i = 0; i < params.length && b.length() < MAX_TEXT; i++) {
            if (i > 0) b.append('&');
            int eq = params[i].indexOf('=');
            if (eq >= 0) b.append(cut(params[i].substring(0, eq + 1))).append('\u2026');
            else b.append(params[i].isEmpty() ? "" : "\u2026");
        }
        return b.toString();
    }

    private static String header(String head, int from, String name) {
        int at = from;
        while (at >= 0 && at < head.length()) {
            int start = at + 2, end = head.indexOf("\r\n", start);
            if (start >= head.length()) break;
            String line = head.substring(start, end < 0 ? head.length() : end);
            if (line.isEmpty()) break; // end of the header block
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) return cut(line.substring(colon + 1).trim());
            if (end < 0) break;
            at = end;
        }
        return null;
    }

    /** ISO-8859-1 keeps every byte one char: positions stay exact whatever the bytes are. */
    private static String text(byte[] data, int len) {
        return new String(data, 0, Math.min(len, data.length), StandardCharsets.ISO_8859_1);
    }

    private static String cut(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_TEXT));
        for (int i = 0; i < s.length() && b.length() < MAX_TEXT; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c >= 0x7f ? '?' : c);
        }
        return b.toString();
    }
}
