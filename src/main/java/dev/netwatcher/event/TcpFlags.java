package dev.netwatcher.event;

/** TCP header flag byte (offset 13) as letters, tcpdump style: S F R P . (ACK) U E W. */
public final class TcpFlags {
    private static final String[] TABLE = new String[256];

    static {
        for (int i = 0; i < 256; i++) TABLE[i] = build(i);
    }

    private TcpFlags() {}

    public static String format(int flags) {
        return TABLE[flags & 0xff];
    }

    private static String build(int flags) {
        StringBuilder sb = new StringBuilder();
        if ((flags & 0x02) != 0) sb.append('S');
        if ((flags & 0x01) != 0) sb.append('F');
        if ((flags & 0x04) != 0) sb.append('R');
        if ((flags & 0x08) != 0) sb.append('P');
        if ((flags & 0x20) != 0) sb.append('U');
        if ((flags & 0x40) != 0) sb.append('E');
        if ((flags & 0x80) != 0) sb.append('W');
        if ((flags & 0x10) != 0) sb.append('.');
        return sb.toString();
    }
}
