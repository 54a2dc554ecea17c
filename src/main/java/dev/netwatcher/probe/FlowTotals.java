package dev.netwatcher.probe;

import dev.netwatcher.event.Flow;
import dev.netwatcher.event.FlowTotal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes an entry of the flow_totals map: struct flow_key -> struct flow_totals (bpf/packet.h). */
final class FlowTotals {
    private FlowTotals() {}

    static FlowTotal decode(byte[] key, ByteBuffer value) {
        ByteBuffer k = ByteBuffer.wrap(key).order(ByteOrder.nativeOrder());
        ByteBuffer v = value.order(ByteOrder.nativeOrder());
        // Records.flow() reads a flow at HDR_SIZE from `off`: place the key's flow there.
        ByteBuffer f = ByteBuffer.allocate(Records.HDR_SIZE + Records.FLOW_SIZE).order(ByteOrder.nativeOrder());
        f.put(Records.HDR_SIZE, key, PacketProbe.K_FLOW, Records.FLOW_SIZE);
        Flow flow = Records.flow(f, 0);
        return new FlowTotal(Integer.toUnsignedLong(k.getInt(PacketProbe.K_NETNS)), flow,
                v.getLong(0), v.getLong(8), v.getLong(16), v.getLong(24));
    }
}
