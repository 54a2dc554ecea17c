package dev.netwatcher.probe;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address prefix such as 198.18.0.0/15 or fd00:198::/64; a bare address is a full-length prefix. */
public record Cidr(InetAddress address, int prefix) {
    public Cidr {
        int max = address.getAddress().length * 8;
        if (prefix < 0 || prefix > max) throw new IllegalArgumentException("prefix /" + prefix + " out of range 0-" + max);
    }

    /** Parses "ADDR" or "ADDR/LEN"; only numeric addresses (no DNS lookups). */
    public static Cidr parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        if (addr.isEmpty() || !addr.matches("[0-9a-fA-F:.]+") || (!addr.contains(":") && !addr.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")))
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address");
        InetAddress a;
        try {
            a = InetAddress.getByName(addr);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address");
        }
        int max = a.getAddress().length * 8;
        int len = max;
        if (slash >= 0) {
            try {
                len = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "': prefix length is not a number");
            }
            if (len < 0 || len > max) throw new IllegalArgumentException("'" + text + "': prefix length must be 0-" + max);
        }
        return new Cidr(a, len);
    }

    public int family() {
        return address.getAddress().length == 4 ? 2 : 10;
    }

    public boolean contains(InetAddress a) {
        byte[] x = a.getAddress(), y = address.getAddress();
        if (x.length != y.length) return false;
        int bits = prefix;
        for (int i = 0; i < x.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if ((x[i] & mask) != (y[i] & mask)) return false;
        }
        return true;
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefix;
    }
}
