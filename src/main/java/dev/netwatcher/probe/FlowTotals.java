package dev.netwatcher.probe;

import dev.netwatcher.bpf.Buffers;
import dev.netwatcher.contract.FlowKeyLayout;
import dev.netwatcher.contract.FlowTotalsLayout;
import dev.netwatcher.event.FlowTotal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes an entry of the flow_totals map: struct flow_key -> struct flow_totals (bpf/packet.h). */
final class FlowTotals {
    private FlowTotals() {}

    static FlowTotal decode(byte[] key, ByteBuffer value) {
        ByteBuffer k = Buffers.direct(key);
        ByteBuffer v = value.order(ByteOrder.nativeOrder());
        return new FlowTotal(Integer.toUnsignedLong(FlowKeyLayout.netns(k, 0)), Records.flowAt(k, FlowKeyLayout.FLOW),
                FlowTotalsLayout.txPackets(v, 0), FlowTotalsLayout.txBytes(v, 0),
                FlowTotalsLayout.rxPackets(v, 0), FlowTotalsLayout.rxBytes(v, 0));
    }
}
