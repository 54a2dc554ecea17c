package dev.netwatcher.event;

import java.net.InetAddress;

/**
 * A 5-tuple. For socket events it reads local → remote; for packet events, in the
 * direction the packet travelled. family 0 means the packet's headers could not be
 * parsed (addresses null, ports 0).
 */
public record Flow(int family, int proto, InetAddress saddr, int sport, InetAddress daddr, int dport) {
    public static final int AF_INET = 2, AF_INET6 = 10;
    public static final Flow UNKNOWN = new Flow(0, 0, null, 0, null, 0);
    /** Names of other protocols: one String object per number, so sinks may cache them by identity. */
    private static final String[] NUMBERS = new String[256];

    static {
        for (int i = 0; i < NUMBERS.length; i++) NUMBERS[i] = Integer.toString(i);
    }

    public String familyName() {
        return switch (family) {
            case AF_INET -> "ipv4";
            case AF_INET6 -> "ipv6";
            default -> null;
        };
    }

    public String protoName() {
        return switch (proto) {
            case 1 -> "icmp";
            case 6 -> "tcp";
            case 17 -> "udp";
            case 58 -> "icmp"; // ICMPv6: "family" tells it apart
            case 0 -> null;
            default -> NUMBERS[proto & 0xff];
        };
    }

    public static String address(InetAddress a) {
        return a == null ? null : AddressText.of(a);
    }

    /** "198.18.0.1:80", "[fd00:198::1]:80", or "-" when unknown. */
    public static String endpoint(InetAddress a, int port) {
        return endpoint(new StringBuilder(48), a, port).toString();
    }

    /** endpoint(a, port) appended to sb (the console's per-packet path: no String of its own). */
    public static StringBuilder endpoint(StringBuilder sb, InetAddress a, int port) {
        if (a == null) return sb.append('-');
        String h = AddressText.of(a);
        boolean v6 = h.indexOf(':') >= 0;
        if (v6) sb.append('[');
        sb.append(h);
        if (v6) sb.append(']');
        return port == 0 ? sb : sb.append(':').append(port);
    }
}
