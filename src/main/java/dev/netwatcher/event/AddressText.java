package dev.netwatcher.event;

import java.net.InetAddress;

/**
 * InetAddress.getHostAddress() with a small direct-mapped cache: a busy run writes the
 * same few addresses millions of times. Used from the consumer thread (a race between
 * threads could only cost a recomputation: each slot is replaced whole).
 */
final class AddressText {
    private record Slot(InetAddress address, String text) {}

    private static final int SIZE = 1024;
    private static final Slot[] SLOTS = new Slot[SIZE];

    private AddressText() {}

    static String of(InetAddress a) {
        int i = a.hashCode() & (SIZE - 1);
        Slot s = SLOTS[i];
        if (s != null && s.address().equals(a)) return s.text();
        String text = a instanceof java.net.Inet6Address ? v6(a.getAddress()) : a.getHostAddress();
        SLOTS[i] = new Slot(a, text);
        return text;
    }

    /**
     * RFC 5952 text (what ip and ss print): lower-case hex without leading zeros, the
     * longest run of two or more zero groups (the first of equal runs) as "::".
     * getHostAddress() never compresses ("fd00:198:0:0:0:0:0:2") and may add a %scope.
     */
    static String v6(byte[] b) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        int bestAt = -1, bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) j++;
            if (j - i > bestLen) {
                bestAt = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestAt) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!sb.isEmpty() && sb.charAt(sb.length() - 1) != ':') sb.append(':');
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }
}
