package dev.netwatcher.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * TLS ClientHello and ServerHello (RFC 8446 4.1.2-4.1.3, RFC 5246 7.4.1), from the first bytes of
 * a TCP segment that starts a handshake record (content type 22). What is read: the server name
 * (server_name, RFC 6066), the versions the client offers (supported_versions, else the legacy
 * version), the ALPN protocols (RFC 7301), and the server's chosen version and cipher suite. A
 * hello longer than what was copied is read as far as it goes: a field beyond is absent. Never
 * throws, never reads outside [0, len).
 */
public final class Tls {
    private Tls() {}

    public record ClientHello(String sni, List<String> versions, List<String> alpn) {}

    public record ServerHello(String version, String cipher, String alpn) {}

    /** A bounded reader: every read past the end returns -1 and marks it. */
    private static final class In {
        final byte[] d;
        int at;
        final int end;

        In(byte[] d, int at, int end) {
            this.d = d;
            this.at = at;
            this.end = end;
        }

        int u8() {
            return at < end ? d[at++] & 0xff : -1;
        }

        int u16() {
            int a = u8(), b = u8();
            return a < 0 || b < 0 ? -1 : a << 8 | b;
        }

        int u24() {
            int a = u8(), b = u16();
            return a < 0 || b < 0 ? -1 : a << 16 | b;
        }

        boolean skip(int n) {
            if (n < 0 || at + n > end) {
                at = end;
                return false;
            }
            at += n;
            return true;
        }

        In sub(int n) { // n bytes from here, cut at the end
            In s = new In(d, at, Math.min(end, at + Math.max(0, n)));
            skip(n);
            return s;
        }

        boolean more() {
            return at < end;
        }
    }

    /** The handshake message of type want (1 ClientHello, 2 ServerHello) at the start, or null. */
    private static In handshake(byte[] d, int len, int want) {
        In r = new In(d, 0, Math.min(len, d.length));
        if (r.u8() != 22) return null;             // ContentType handshake
        int major = r.u8(), minor = r.u8();
        if (major != 3 || minor < 0 || minor > 4) return null;
        if (r.u16() < 4) return null;              // record length
        if (r.u8() != want) return null;
        int hlen = r.u24();
        if (hlen < 38) return null;
        return r.sub(hlen);
    }

    public static boolean isHello(byte[] d, int len) {
        return handshake(d, len, 1) != null || handshake(d, len, 2) != null;
    }

    public static Optional<ClientHello> clientHello(byte[] d, int len) {
        In h = handshake(d, len, 1);
        if (h == null) return Optional.empty();
        int legacy = h.u16();
        if (legacy < 0 || !h.skip(32)) return Optional.empty(); // random
        if (!h.skip(h.u8())) return Optional.empty();           // session id
        if (!h.skip(h.u16())) return Optional.empty();          // cipher suites
        if (!h.skip(h.u8())) return Optional.empty();           // compression methods
        String sni = null;
        List<String> versions = new ArrayList<>(), alpn = new ArrayList<>();
        In ext = h.sub(h.u16());
        while (ext.more()) {
            int type = ext.u16(), n = ext.u16();
            if (type < 0 || n < 0) break;
            In e = ext.sub(n);
            switch (type) {
                case 0 -> { // server_name: list of (type, name)
                    In list = e.sub(e.u16());
                    while (list.more() && sni == null) {
                        int nameType = list.u8(), nl = list.u16();
                        if (nameType < 0 || nl < 0) break;
                        String name = text(list, nl);
                        if (nameType == 0) sni = name;
                    }
                }
                case 16 -> alpn.addAll(protocols(e));
                case 43 -> { // supported_versions (client): a list of versions
                    int n8 = e.u8();
                    In v = e.sub(n8);
                    while (v.more()) {
                        int ver = v.u16();
                        if (ver < 0) break;
                        if (!grease(ver)) versions.add(version(ver));
                    }
                }
                default -> { }
            }
        }
        if (versions.isEmpty()) versions.add(version(legacy));
        return Optional.of(new ClientHello(sni, List.copyOf(versions), List.copyOf(alpn)));
    }

    public static Optional<ServerHello> serverHello(byte[] d, int len) {
        In h = handshake(d, len, 2);
        if (h == null) return Optional.empty();
        int legacy = h.u16();
        if (legacy < 0 || !h.skip(32)) return Optional.empty();
        if (!h.skip(h.u8())) return Optional.empty();
        int cipher = h.u16();
        if (cipher < 0 || h.u8() < 0) return Optional.empty();
        int chosen = legacy;
        String alpn = null;
        In ext = h.sub(h.u16());
        while (ext.more()) {
            int type = ext.u16(), n = ext.u16();
            if (type < 0 || n < 0) break;
            In e = ext.sub(n);
            if (type == 43) { // supported_versions (server): the one chosen
                int v = e.u16();
                if (v >= 0) chosen = v;
            } else if (type == 16) { // ALPN in a TLS 1.2 ServerHello (1.3 sends it encrypted)
                List<String> p = protocols(e);
                if (!p.isEmpty()) alpn = p.get(0);
            }
        }
        return Optional.of(new ServerHello(version(chosen), cipher(cipher), alpn));
    }

    private static List<String> protocols(In e) {
        List<String> out = new ArrayList<>();
        In list = e.sub(e.u16());
        while (list.more()) {
            int n = list.u8();
            if (n <= 0) break;
            out.add(text(list, n));
        }
        return out;
    }

    private static String text(In r, int n) {
        int from = r.at, to = Math.min(r.end, from + n);
        r.skip(n);
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            int c = r.d[i] & 0xff;
            sb.append(c >= 0x21 && c < 0x7f ? (char) c : '?'); // names are ASCII; nothing else reaches a terminal
        }
        return sb.toString();
    }

    /** RFC 8701 GREASE values (0x0a0a, 0x1a1a, ... 0xfafa): placeholders clients add, not versions. */
    private static boolean grease(int v) {
        return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
    }

    static String version(int v) {
        return switch (v) {
            case 0x0304 -> "TLSv1.3";
            case 0x0303 -> "TLSv1.2";
            case 0x0302 -> "TLSv1.1";
            case 0x0301 -> "TLSv1.0";
            case 0x0300 -> "SSLv3";
            default -> String.format("0x%04x", v);
        };
    }

    /** IANA names of the cipher suites in use today; others as their number. */
    static String cipher(int c) {
        return switch (c) {
            case 0x1301 -> "TLS_AES_128_GCM_SHA256";
            case 0x1302 -> "TLS_AES_256_GCM_SHA384";
            case 0x1303 -> "TLS_CHACHA20_POLY1305_SHA256";
            case 0xc02b -> "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
            case 0xc02c -> "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
            case 0xc02f -> "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
            case 0xc030 -> "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
            case 0xcca8 -> "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
            case 0xcca9 -> "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
            case 0x009c -> "TLS_RSA_WITH_AES_128_GCM_SHA256";
            case 0x009d -> "TLS_RSA_WITH_AES_256_GCM_SHA384";
            default -> String.format("0x%04x", c);
        };
    }
}
