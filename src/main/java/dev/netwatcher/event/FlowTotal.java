package dev.netwatcher.event;

/** -t/-u: packets and payload bytes of one flow so far, each way. The flow reads local -> remote. */
public record FlowTotal(long netns, Flow flow, long txPackets, long txBytes, long rxPackets, long rxBytes) implements Report.Row {
    @Override
    public void writeFields(FieldWriter w) {
        w.flow(flow, netns);
        w.number("tx_packets", txPackets);
        w.number("tx_bytes", txBytes);
        w.number("rx_packets", rxPackets);
        w.number("rx_bytes", rxBytes);
    }

    @Override
    public String line() {
        return String.format("%-10d %-5s %-40s %-40s %9d %12d %9d %12d", netns, flow.protoName(),
                Flow.endpoint(flow.saddr(), flow.sport()), Flow.endpoint(flow.daddr(), flow.dport()), txPackets, txBytes,
                rxPackets, rxBytes);
    }
}
