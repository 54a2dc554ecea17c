package dev.netwatcher.protocol;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** DNS messages (RFC 1035): header, first question, and as much of the answer section as was copied. */
public final class Dns {
    public record Message(int id, boolean response, String rcode, String name, String qtype, List<String> answers) {}

    private static final String[] RCODES = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
            "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};

    private Dns() {}

    /** Parses data[off, off+len); empty when even the header and question do not parse. */
    public static Optional<Message> parse(byte[] data, int off, int len) {
        int end = Math.min(data.length, off + len);
        if (end - off < 12) return Optional.empty();
        int id = u16(data, off), flags = u16(data, off + 2), qd = u16(data, off + 4), an = u16(data, off + 6);
        if (qd < 1) return Optional.empty();
        int[] at = {off + 12};
        String name = name(data, off, end, at);
        if (name == null || at[0] + 4 > end) return Optional.empty();
        int qtype = u16(data, at[0]);
        at[0] += 4;
        for (int i = 1; i < qd; i++) { // skip further questions (rare)
            if (name(data, off, end, at) == null || at[0] + 4 > end) return Optional.of(message(id, flags, name, qtype, List.of()));
            at[0] += 4;
        }
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < an && i < 32; i++) {
            if (name(data, off, end, at) == null || at[0] + 10 > end) break;
            int type = u16(data, at[0]), rdlen = u16(data, at[0] + 8);
            int rdata = at[0] + 10;
            if (rdata + rdlen > end) break;
            answers.add(type(type) + " " + rdata(data, off, end, type, rdata, rdlen));
            at[0] = rdata + rdlen;
        }
        return Optional.of(message(id, flags, name, qtype, answers));
    }

    private static Message message(int id, int flags, String name, int qtype, List<String> answers) {
        int rcode = flags & 0xf;
        return new Message(id, (flags & 0x8000) != 0, rcode < RCODES.length ? RCODES[rcode] : "RCODE" + rcode, name,
                type(qtype), List.copyOf(answers));
    }

    private static String rdata(byte[] d, int msg, int end, int type, int at, int len) {
        try {
            if ((type == 1 && len == 4) || (type == 28 && len == 16)) {
                byte[] a = new byte[len];
                System.arraycopy(d, at, a, 0, len);
                return dev.netwatcher.event.Flow.address(InetAddress.getByAddress(a)); // RFC 5952 text for IPv6
            }
        } catch (UnknownHostException e) {
            return "?";
        }
        if (type == 5 || type == 2 || type == 12) {
            int[] p = {at};
            String n = name(d, msg, end, p);
            return n == null ? "?" : n;
        }
        return len + " bytes";
    }

    /** A (possibly compressed) name at at[0]; advances at[0] past it. Null if malformed or cut. */
    static String name(byte[] d, int msg, int end, int[] at) {
        StringBuilder sb = new StringBuilder();
        int p = at[0], jumps = 0, after = -1;
        while (true) {
            if (p >= end) return null;
            int l = d[p] & 0xff;
            if (l == 0) {
                p++;
                break;
            }
            if ((l & 0xc0) == 0xc0) {
                if (p + 1 >= end || ++jumps > 16) return null;
                if (after < 0) after = p + 2;
                p = msg + (((l & 0x3f) << 8) | (d[p + 1] & 0xff));
                continue;
            }
            if ((l & 0xc0) != 0 || p + 1 + l > end || sb.length() > 255) return null;
            for (int i = 0; i < l; i++) {
                char c = (char) (d[p + 1 + i] & 0xff);
                sb.append(c <= 0x20 || c >= 0x7f ? '?' : c);
            }
            sb.append('.');
            p += 1 + l;
        }
        at[0] = after >= 0 ? after : p;
        return sb.isEmpty() ? "." : sb.toString();
    }

    static String type(int t) {
        return switch (t) {
            case 1 -> "A";
            case 2 -> "NS";
            case 5 -> "CNAME";
            case 6 -> "SOA";
            case 12 -> "PTR";
            case 15 -> "MX";
            case 16 -> "TXT";
            case 28 -> "AAAA";
            case 33 -> "SRV";
            case 65 -> "HTTPS";
            case 255 -> "ANY";
            default -> "TYPE" + t;
        };
    }

    private static int u16(byte[] d, int at) {
        return ((d[at] & 0xff) << 8) | (d[at + 1] & 0xff);
    }
}
