package dev.netwatcher.probe;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the kernel side lets through (struct nw_filter in bpf/include/nw_common.h).
 * Ports and addresses match the flow as reported: local/remote for socket events,
 * source/destination for packet events. 0 or null means "any".
 */
public record Filter(long netns, int sport, int dport, Cidr saddr, Cidr daddr) {
    public static final Filter NONE = new Filter(0, 0, 0, null, null);
    /** sizeof(struct nw_filter); checked against BTF in StructLayoutTest. */
    public static final int SIZE = 44;

    static final int NETNS = 0, SPORT = 4, DPORT = 6, SADDR_FAMILY = 8, SADDR_PREFIX = 9, DADDR_FAMILY = 10,
            DADDR_PREFIX = 11, SADDR = 12, DADDR = 28;

    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(NETNS, (int) netns);
        b.putShort(SPORT, (short) sport);
        b.putShort(DPORT, (short) dport);
        if (saddr != null) {
            b.put(SADDR_FAMILY, (byte) saddr.family()).put(SADDR_PREFIX, (byte) saddr.prefix());
            b.put(SADDR, saddr.address().getAddress());
        }
        if (daddr != null) {
            b.put(DADDR_FAMILY, (byte) daddr.family()).put(DADDR_PREFIX, (byte) daddr.prefix());
            b.put(DADDR, daddr.address().getAddress());
        }
        return b.array();
    }
}
