package dev.netwatcher.probe;

import dev.netwatcher.contract.NwFilterLayout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the kernel side lets through (struct nw_filter in bpf/include/nw_common.h).
 * Ports and addresses match the flow as reported: local/remote for socket events,
 * source/destination for packet events. 0 or null means "any".
 */
public record Filter(long netns, int sport, int dport, Cidr saddr, Cidr daddr) {
    public static final Filter NONE = new Filter(0, 0, 0, null, null);
    /** sizeof(struct nw_filter): the bytes of the .rodata variable nw_filter. */
    public static final int SIZE = NwFilterLayout.SIZE;

    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(NwFilterLayout.NETNS, (int) netns);
        b.putShort(NwFilterLayout.SPORT, (short) sport);
        b.putShort(NwFilterLayout.DPORT, (short) dport);
        if (saddr != null) {
            b.put(NwFilterLayout.SADDR_FAMILY, (byte) saddr.family()).put(NwFilterLayout.SADDR_PREFIX, (byte) saddr.prefix());
            b.put(NwFilterLayout.SADDR, saddr.address().getAddress());
        }
        if (daddr != null) {
            b.put(NwFilterLayout.DADDR_FAMILY, (byte) daddr.family()).put(NwFilterLayout.DADDR_PREFIX, (byte) daddr.prefix());
            b.put(NwFilterLayout.DADDR, daddr.address().getAddress());
        }
        return b.array();
    }
}
