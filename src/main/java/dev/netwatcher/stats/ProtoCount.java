package dev.netwatcher.stats;

/** -p: packets and bytes of one protocol since start, each way (the kernel's proto_counts, summed over CPUs). */
public record ProtoCount(String family, String proto, long rxPackets, long rxBytes, long txPackets, long txBytes) {
    public long packets() {
        return rxPackets + txPackets;
    }

    public long bytes() {
        return rxBytes + txBytes;
    }
}
